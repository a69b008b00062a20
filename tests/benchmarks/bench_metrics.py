"""Metric maths benchmarks, written to BENCHMARKS.md under "## Metrics".

1. FD trace term tr((Σ₁Σ₂)^½) at 2048-d: genbench (two symmetric eigh) vs scipy.linalg.sqrtm (pytorch-fid,
   clean-fid) vs the eigenvalues of Σ₁Σ₂ in complex arithmetic (torch-fidelity); time and agreement.
2. Precision/recall + density/coverage on 2048-d features, N real = N fake = 10k, 20k, 50k: genbench's tiled
   `functional.prdc` vs the `prdc` package, each case in a fresh subprocess that reports wall time and
   peak RSS (resource.getrusage ru_maxrss). prdc holds N × N matrices; it is only run where it fits.

Run: OMP_NUM_THREADS=1 .venv/bin/python -m tests.benchmarks.bench_metrics [--sizes 10000 20000]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

DIM = 2048
PRDC_RUN_BUDGET_GIB = 8.0  # prdc is run where its estimated peak fits this (the box is shared); else estimated
GIB = 1024**3


def _features(n: int, seed: int, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, DIM), dtype=np.float32) + shift).astype(np.float32)  # [n, 2048] float32


def _covariances(seed: int = 0, n: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    from genbench.metrics.functional import feature_stats

    rng = np.random.default_rng(seed)
    mix = np.eye(DIM) + 0.05 * rng.standard_normal((DIM, DIM))
    a = np.maximum(rng.standard_normal((n, DIM)) @ mix, 0.0)  # ReLU-like, correlated, like pool3
    b = np.maximum(rng.standard_normal((n, DIM)) @ mix + 0.1, 0.0)
    return feature_stats(a)[1], feature_stats(b)[1]


def _timed(fn, *args) -> tuple[float, float]:
    t0 = time.perf_counter()
    value = fn(*args)
    return float(value), time.perf_counter() - t0


def _trace_sqrtm(s1: np.ndarray, s2: np.ndarray) -> float:
    import warnings

    from scipy import linalg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy 1.17 deprecates disp=, pytorch-fid uses it
        root, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    return float(np.trace(root).real)


def _trace_eigvals(s1: np.ndarray, s2: np.ndarray) -> float:
    return float(np.sum(np.sqrt(np.linalg.eigvals(s1.dot(s2)).astype("complex128")).real))


def bench_trace() -> list[str]:
    from genbench.metrics.functional import trace_sqrt_product

    s1, s2 = _covariances()
    rows = {name: _timed(f, s1, s2) for name, f in [("genbench (eigh of √Σ₁Σ₂√Σ₁)", trace_sqrt_product),
                                                    ("scipy.linalg.sqrtm (pytorch-fid, clean-fid)", _trace_sqrtm),
                                                    ("eigvals of Σ₁Σ₂, complex (torch-fidelity)", _trace_eigvals)]}
    ref_value, ref_time = next(iter(rows.values()))
    lines = ["| method | time (s) | time / genbench | tr((Σ₁Σ₂)^½) | rel. diff vs genbench |", "|---|---|---|---|---|"]
    for name, (value, secs) in rows.items():
        lines.append(f"| {name} | {secs:.2f} | {secs / ref_time:.2f}× | {value:.6f} | "
                     f"{abs(value - ref_value) / abs(ref_value):.1e} |")
    return lines


def _status_gib(field: str) -> float:
    """VmHWM (peak) or VmRSS (current) of this process in GiB. Linux's getrusage ru_maxrss survives exec
    and so would report the parent's peak; VmHWM belongs to this process image only."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / GIB  # kB
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024 / GIB


def run_case(which: str, n: int) -> dict:
    """One case in this process: build features, run the method, report time and memory."""
    import prdc as prdc_pkg

    from genbench.metrics.functional import prdc
    from genbench.metrics.knn import Tiling

    real, fake = _features(n, 1, 0.0), _features(n, 2, 0.05)
    base = _status_gib("VmRSS")  # interpreter, torch, sklearn and the two float32 inputs
    t0 = time.perf_counter()
    if which == "genbench":
        out = prdc(real, fake, 5, 5, Tiling(2048))
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            out = {k: float(v) for k, v in prdc_pkg.compute_prdc(real, fake, 5).items()}
    return {"which": which, "n": n, "seconds": time.perf_counter() - t0, "peak_gib": _status_gib("VmHWM"),
            "inputs_gib": base, "values": out}


def _subprocess_case(which: str, n: int) -> dict:
    cmd = [sys.executable, "-m", "tests.benchmarks.bench_metrics", "--case", which, "--n", str(n)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return json.loads(res.stdout.strip().splitlines()[-1])


def prdc_estimate_gib(n: int) -> float:
    """prdc's peak above its inputs: float32 N×N distances + int64 N×N argpartition indices (self radii),
    then the float32 real×fake matrix with N×N boolean comparisons: ≈ 13·N² bytes (12.8 measured at 10k)."""
    return 13.0 * n * n / GIB


def bench_prdc(sizes: list[int], on_row=lambda lines: None) -> list[str]:
    lines = ["| N real = N fake | method | time (s) | peak RSS (GiB) | RSS before the call (GiB) "
             "| values (P / R / D / C) |", "|---|---|---|---|---|---|"]
    for n in sizes:
        runs_prdc = prdc_estimate_gib(n) <= PRDC_RUN_BUDGET_GIB
        for which in ("genbench", "prdc") if runs_prdc else ("genbench",):
            lines.append(_case_row(_subprocess_case(which, n)))
            print(lines[-1], flush=True)
            on_row(lines)
        if not runs_prdc:
            est = prdc_estimate_gib(n)
            fits = "fits" if est + 1 < 24 else "does NOT fit"
            lines.append(f"| {n:,} | prdc (estimated, not run) | – | ≈ {est + 1:.0f} | ≈ 1 | {fits} in 24 GiB |")
            on_row(lines)
    return lines


def _case_row(c: dict) -> str:
    v = c["values"]
    vals = " / ".join(f"{v[k]:.4f}" for k in ("precision", "recall", "density", "coverage"))
    return f"| {c['n']:,} | {c['which']} | {c['seconds']:.1f} | {c['peak_gib']:.2f} | {c['inputs_gib']:.2f} | {vals} |"


def _body(trace: list[str], prdc_lines: list[str]) -> str:
    env = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared, "
           f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, numpy {np.__version__}")
    return "\n".join([
        f"Measured by `tests/benchmarks/bench_metrics.py` on {env}.", "",
        f"### FD trace term at {DIM}-d (covariances of 6,000 correlated ReLU features)", "", *trace, "",
        f"### Precision / recall / density / coverage, {DIM}-d float32 features, k = 5", "",
        "genbench: `functional.prdc`, tiles of 2,048 rows, float64 distances, three tiled passes (real×real "
        "and fake×fake use symmetry). prdc: `prdc.compute_prdc` (sklearn distances, full N×N matrices). "
        "Each case runs in its own subprocess; peak RSS (VmHWM) includes the interpreter, torch and the two "
        "input arrays (the column after it). prdc is estimated, not run, where its N×N matrices "
        f"(≈ 13·N² bytes) exceed {PRDC_RUN_BUDGET_GIB:.0f} GiB on this shared machine.", "", *prdc_lines])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 20_000, 50_000])
    ap.add_argument("--case", choices=["genbench", "prdc"])
    ap.add_argument("--n", type=int)
    args = ap.parse_args([] if argv is None else argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.n)))
        return
    from tests.benchmarks.sections import write_section

    trace = bench_trace()
    print("\n".join(trace), flush=True)
    bench_prdc(args.sizes, lambda rows: write_section("Metrics", _body(trace, rows)))


if __name__ == "__main__":
    main(sys.argv[1:])
