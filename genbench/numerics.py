"""Numerics for metrics: explicit device choice, TF32 off, deterministic algorithms, float64 sums."""
from __future__ import annotations

import contextlib
import os
import platform
import threading
from functools import lru_cache
from typing import Iterable, Iterator

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


SMALL_LINALG = 512  # features up to this width are handled on one thread


@contextlib.contextmanager
def small_linalg(size: int) -> Iterator[None]:
    """One thread for torch (OpenMP) and for numpy/scipy's BLAS while maths on [*, size] features runs, when
    size <= SMALL_LINALG; the callers' counts are restored on exit.

    For small matrices threads buy nothing on an idle machine and cost 25x on a loaded one (eigvalsh of a
    192 x 192 matrix: 4 ms on one thread, 108 ms on two spinning against other work; the paired gate at
    N = 1,000 took 55 s), and OpenBLAS's GEMM rounds differently with 1 and 2 threads, so one fixed count
    keeps small-feature metrics identical whatever the machine's core count. OpenMP's count belongs to the
    calling thread; OpenBLAS's is process-wide (metrics run on the main thread, never beside extraction).
    """
    if size > SMALL_LINALG or getattr(_ONE_THREAD, "active", False):  # nested: the outer block holds one thread
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    _ONE_THREAD.active = True
    try:
        with _blas().limit(limits=1):
            yield
    finally:
        _ONE_THREAD.active = False
        torch.set_num_threads(before)


_ONE_THREAD = threading.local()


@lru_cache(maxsize=1)
def _blas():
    """threadpoolctl's controller of the loaded BLAS/OpenMP libraries, found once (a scan costs ~7 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def feature_width(arrays: Iterable[object]) -> int:
    """The widest feature dimension among 2-D arrays (SMALL_LINALG + 1 when there is none: images, scalars),
    for small_linalg."""
    widths = [int(np.shape(a)[1]) for a in arrays if np.ndim(a) == 2]
    return max(widths) if widths else SMALL_LINALG + 1
