"""Numerics for metrics: explicit device choice, TF32 off, deterministic algorithms, float64 sums."""
from __future__ import annotations

import contextlib
import os
import platform
from functools import lru_cache
from typing import Iterator

import numpy as np
import torch

from genbench.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when available, else CPU; 'cuda' without a GPU is a clear error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ConfigError(f"--device: unknown device {name!r} (use auto, cpu or cuda)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine")
    return torch.device(name)


def strict_numerics() -> None:
    """Turn off TF32 so that matrix products are exact float32 on Ampere+ GPUs (idempotent)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def deterministic_cuda(device: torch.device) -> None:
    """On CUDA: TF32 off and torch's deterministic algorithms on (warn only where an op has none). No-op on CPU.

    Process-wide and idempotent, like strict_numerics (a per-call toggle would race between the extraction
    threads). cuBLAS needs CUBLAS_WORKSPACE_CONFIG for deterministic matrix products; it is set here unless the
    user set it (it takes effect if CUDA has not created its cuBLAS handle yet).
    """
    if device.type != "cuda":
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    strict_numerics()
    if not torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(True, warn_only=True)


def device_record(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"


@lru_cache(maxsize=1)
def cpu_record() -> str:
    """The host CPU as results record it: architecture, model name, the instruction set torch dispatches to and
    the reproducibility class (genbench.reproducible), e.g. "x86_64 AMD EPYC (AVX2) [x86-64 AVX2 pinned]".
    Pinned results reproduce bit for bit on every x86-64 CPU with the same library versions; unpinned ones only
    on CPUs with the same record (MKL, oneDNN and the vectorised kernels take other paths on other CPUs)."""
    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            name = next((ln.split(":", 1)[1].strip() for ln in f if ln.lower().startswith("model name")), "")
    except OSError:
        pass
    name = " ".join((name or platform.processor() or "unknown CPU").split())
    klass = reproducibility_record()["class"]
    return f"{platform.machine() or '?'} {name} ({torch.backends.cpu.get_cpu_capability()}) [{klass}]"


@lru_cache(maxsize=1)
def reproducibility_record() -> dict:
    """The pins in force in this process (genbench.reproducible.record): class, variables, what took effect."""
    from genbench import reproducible

    return reproducible.record(torch.backends.cpu.get_cpu_capability(), openblas_core(), torch.get_num_threads())


def openblas_core() -> str | None:
    """The core type numpy's OpenBLAS runs (threadpoolctl's "architecture"), or None where it cannot be seen."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    cores = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return next((c for c in cores if c), None)


def softmax64(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits [N, C], in float64 (max-subtracted)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # [N, C] float64


SMALL_LINALG = 512  # matrices up to this size are decomposed on one thread


@contextlib.contextmanager
def small_linalg(size: int) -> Iterator[None]:
    """One torch (OpenMP) thread while a [size, size] decomposition runs, when size <= SMALL_LINALG.

    For small matrices threads buy nothing on an idle machine and cost 25x on a loaded one (eigvalsh of a
    192 x 192 matrix: 4 ms on one thread, 108 ms on two spinning against other work), and a fixed thread
    count keeps the rounding the same whatever the machine's core count. OpenMP's thread count belongs to
    the calling thread, so other threads are not affected; the caller's count is restored on exit.
    """
    if size > SMALL_LINALG:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
