"""Reproducible mode: pin the CPU kernels that depend on the instruction set before torch and numpy load.

oneDNN convolutions, MKL and OpenBLAS matrix products and ATen's vectorised kernels choose their code path by
the CPU's instruction set (AVX-512 on one machine, AVX2 on the next) and split reductions by thread count, so
the same training run rounds differently on two x86 CPU kinds, and training amplifies it. Reproducible mode
(`make run`, `genbench run`, `genbench train`) pins every such choice to a level all x86-64 CPUs of the last
decade have, AVX2, and fixes the thread counts. The libraries read these variables once, when they load or
first run, so they must be in the environment before `import torch` and `import numpy`:

- `genbench` on the command line (`main()` with no argv): if numpy or torch is already loaded (``import
  genbench`` loads numpy), the process re-executes itself once with the pinned environment;
- `cli.main(argv)` called in a Python process (tests, notebooks) cannot re-execute its caller: it runs with
  the kernels that process loaded, warns, and every result it writes records the class "unpinned";
- `GENBENCH_UNPINNED=1` runs unpinned on purpose (to time the difference); results say so.

A value the machine already sets for OPENBLAS_CORETYPE (with OPENBLAS_L2_SIZE) is kept: some machines set it
because older OpenBLAS builds crash or compute wrong results on their CPU. The class then names that core
type, so a board computed under it is never mistaken for the plain pinned class.

This module imports only the standard library: it runs before torch and numpy exist in the process.
"""
from __future__ import annotations

import os
import platform
import sys

PINNED_COMMANDS = ("run", "train")
PINNED_CLASS = "x86-64 AVX2 pinned"
THREADS = 2  # fixed whatever the machine: reductions are split by thread count (the project's machines have 2)
OPT_OUT = "GENBENCH_UNPINNED"
_REEXEC = "GENBENCH_PINNED_REEXEC"  # set in the re-executed process: never loop
CORETYPE = "Haswell"  # OpenBLAS's name for the AVX2 (+FMA) kernels

ISA_PINS = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN >= 2.0 (torch's mkldnn convolutions)
    "DNNL_MAX_CPU_ISA": "AVX2",  # its older name
    "MKL_CBWR": "AVX2",  # MKL conditional numerical reproducibility: the AVX2 code path on every CPU
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",  # ATen's vectorised CPU kernels
    "OPENBLAS_CORETYPE": CORETYPE,  # numpy's OpenBLAS
}
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_LIBRARIES = ("numpy", "torch", "scipy")


def is_x86(machine: str | None = None) -> bool:
    return (machine if machine is not None else platform.machine()).lower() in ("x86_64", "amd64")


def pinned_env(environ: dict | None = None, machine: str | None = None) -> dict[str, str]:
    """The variables reproducible mode sets, given the current environment (a machine's OPENBLAS_CORETYPE is
    kept). Off x86 only the thread counts are pinned."""
    environ = os.environ if environ is None else environ
    pins = dict(ISA_PINS) if is_x86(machine) else {}
    if "OPENBLAS_CORETYPE" in pins and environ.get("OPENBLAS_CORETYPE"):
        pins["OPENBLAS_CORETYPE"] = environ["OPENBLAS_CORETYPE"]
    pins.update({name: str(THREADS) for name in THREAD_VARS})
    return pins


def missing(environ: dict | None = None) -> dict[str, str]:
    """The pinned variables that the environment does not hold yet (or holds with another value)."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in pinned_env(environ).items() if environ.get(k) != v}


def command_of(argv: list[str]) -> str | None:
    """The subcommand of a genbench command line (its first argument that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def wanted(argv: list[str], environ: dict | None = None) -> bool:
    environ = os.environ if environ is None else environ
    asks_help = any(a in ("-h", "--help") for a in argv)
    return command_of(argv) in PINNED_COMMANDS and not asks_help and environ.get(OPT_OUT, "") in ("", "0")


def pin_for(argv: list[str] | None = None) -> None:
    """Reproducible mode for the commands that use it (run, train); a no-op for the others.

    argv None means this process *is* the command line: where numpy or torch is already loaded it re-executes
    itself (os.execve: same process id, same arguments) with the pinned environment. With an explicit argv
    (called from Python) it pins what has not loaded yet, or warns that the results will read "unpinned".
    """
    args = sys.argv[1:] if argv is None else list(argv)
    todo = missing()
    if not wanted(args) or not todo:
        return
    loaded = [m for m in _LIBRARIES if m in sys.modules]
    if not loaded:
        os.environ.update(todo)
        return
    if argv is None and not os.environ.get(_REEXEC):
        env = {**os.environ, **todo, _REEXEC: "1"}
        os.execve(sys.executable, [sys.executable, *_interpreter_args()], env)
    import warnings

    warnings.warn(f"genbench {command_of(args)}: reproducible mode needs its CPU pins before {' and '.join(loaded)} "
                  "load, and this process loaded them first; its results are recorded as unpinned (run the "
                  "`genbench` command, or start Python with `genbench.reproducible.pinned_env()` in its "
                  "environment)", stacklevel=3)


def _interpreter_args() -> list[str]:
    """This process's command line after the interpreter (`-m genbench run ...` or `/venv/bin/genbench run`)."""
    orig = list(getattr(sys, "orig_argv", []) or [])
    return orig[1:] if len(orig) > 1 else list(sys.argv)


def reproducibility_class(environ: dict, capability: str, openblas_core: str | None,
                          machine: str | None = None) -> str:
    """The class a result belongs to: values reproduce byte for byte within a class (same versions).

    "x86-64 AVX2 pinned" when every pin is in the environment and the libraries show they took it (ATen
    dispatches to AVX2; numpy's OpenBLAS, where threadpoolctl sees it, runs the pinned core type);
    "<arch> unpinned (<ATen capability>)" otherwise.
    """
    arch = (machine if machine is not None else platform.machine()) or "?"
    pins = pinned_env(environ, machine)
    took = capability.upper() == "AVX2" and openblas_core in (None, pins.get("OPENBLAS_CORETYPE"))
    if not is_x86(machine) or missing(environ) or not took:
        return f"{arch} unpinned ({capability})"
    core = pins["OPENBLAS_CORETYPE"]
    return PINNED_CLASS if core.lower() == CORETYPE.lower() else f"{PINNED_CLASS}, OpenBLAS core {core}"


def record(capability: str, openblas_core: str | None, threads: int, environ: dict | None = None) -> dict:
    """What a result records beside its CPU: the class, the pinned variables as set, and what took effect."""
    environ = os.environ if environ is None else environ
    names = list(ISA_PINS) + list(THREAD_VARS) + ["OPENBLAS_L2_SIZE"]
    return {"class": reproducibility_class(environ, capability, openblas_core),
            "env": {k: environ.get(k) for k in names}, "aten_cpu_capability": capability,
            "openblas_core": openblas_core, "torch_threads": threads}


def row_class(protocol: dict) -> str:
    """A result's class from its protocol record: `reproducibility.class`, else the "[class]" that ends its
    `cpu` (genbench.numerics.cpu_record), else "unpinned (<cpu>)" (results written before reproducible mode)."""
    rec = protocol.get("reproducibility")
    if isinstance(rec, dict) and rec.get("class"):
        return str(rec["class"])
    cpu = str(protocol.get("cpu", "an unrecorded CPU"))
    if cpu.endswith("]") and " [" in cpu:
        return cpu[cpu.rindex(" [") + 2:-1]
    return f"unpinned ({cpu})"


def is_pinned(klass: str) -> bool:
    return klass.startswith(PINNED_CLASS)


def cpu_name(protocol: dict) -> str:
    """The CPU a result names, without the class suffix."""
    cpu = str(protocol.get("cpu", "an unrecorded CPU"))
    return cpu[:cpu.rindex(" [")] if cpu.endswith("]") and " [" in cpu else cpu


if __name__ == "__main__":  # `python -m genbench.reproducible`: the pinned environment as NAME=VALUE lines
    print("\n".join(f"{k}={v}" for k, v in pinned_env().items()))
