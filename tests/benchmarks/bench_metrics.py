"""Metric maths benchmarks at 2048-d, written to BENCHMARKS.md under "## Metrics".

For N = 2,000, 10,000 and 50,000 generated and reference rows, side by side in one run, each case in a
fresh subprocess that reports wall time and peak RSS (VmHWM):
1. FD against a reference given as statistics (mean, covariance and its cached root, as a
   reference-statistics file holds them): genbench (`functional_fd_fast.frechet_distance_rooted`),
   genbench without a cached root (`functional_fd.frechet_distance`, two eigh), scipy.linalg.sqrtm as
   pytorch-fid computes it, and torch-fidelity's `eigvals` of Σ₁Σ₂ (`metric_fid.fid_statistics_to_metric`).
   Each also forms the generated set's covariance (timed apart).
2. FD with its 95% bootstrap interval, B = 200 (genbench.metrics.bootstrap.compute_with_ci over the fd
   metric; the generated set is resampled, the reference fixed), the per-replicate cost beside the floor
   measured on the same machine: one Gram product of the features (N·d², `dsyrk`) plus one `eigvalsh`.
3. Precision / recall / density / coverage (k = 3 / 5): genbench `functional.prdc` vs the `prdc` package,
   the latter only where its N × N matrices fit (see PRDC_RUN_BUDGET_GIB).

Synthetic features: standard normal rows times a fixed random mixing matrix (correlated covariance).
Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 .venv/bin/python -m \
     tests.benchmarks.bench_metrics [--sizes 2000 10000 50000] (one thread: on a shared, loaded machine
     multithreaded LAPACK is 10-25× slower than one thread, see BENCHMARKS.md)
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
BOOT = 200
PRDC_RUN_BUDGET_GIB = 8.0  # prdc is run where its estimated peak fits this (the box is shared); else skipped
GIB = 1024**3
FD_METHODS = ("fd-genbench", "fd-genbench-noroot", "fd-sqrtm", "fd-eigvals")
CASES = ("fd", "fd-ci", "prdc-genbench", "prdc-pkg")
B_RUN = {50_000: 5}  # replicates actually run per N (default B_SHORT); the time for B is extrapolated
B_SHORT = 10
LABELS = {"fd-genbench": "genbench, cached reference root", "fd-genbench-noroot": "genbench, no cached root (2 eigh)",
          "fd-sqrtm": "scipy.linalg.sqrtm (pytorch-fid)", "fd-eigvals": "eigvals of Σ₁Σ₂ (torch-fidelity)",
          "prdc-genbench": "genbench functional.prdc", "prdc-pkg": "prdc.compute_prdc"}


def _features(n: int, seed: int, shift: float) -> np.ndarray:
    mix = np.random.default_rng(0).standard_normal((DIM, DIM), dtype=np.float32) / np.sqrt(DIM) + np.eye(
        DIM, dtype=np.float32)
    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    return (x @ mix + shift).astype(np.float32)  # [n, 2048] float32, correlated


def _status_gib(field: str) -> float:
    """VmHWM (peak) or VmRSS (current) of this process in GiB (VmHWM belongs to this process image only)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / GIB  # kB
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024 / GIB


def _reference(n: int) -> dict:
    """What a reference-statistics file holds: mean, covariance, its root (computed before timing)."""
    from genbench.metrics.functional import feature_stats
    from genbench.metrics.functional_fd_fast import psd_sqrt

    mu, sigma = feature_stats(_features(n, 1, 0.0))
    return {"mu": mu, "sigma": sigma, "root": psd_sqrt(sigma)}


def _fd_peer(method: str, mf: np.ndarray, sf: np.ndarray, ref: dict) -> float:
    import warnings

    from scipy import linalg

    from genbench.metrics.functional import frechet_distance
    from genbench.metrics.functional_fd_fast import frechet_distance_rooted

    mr, sr = ref["mu"], ref["sigma"]
    if method == "fd-genbench":
        return frechet_distance_rooted(mf, sf, mr, sr, ref["root"])
    if method == "fd-genbench-noroot":
        return frechet_distance(mf, sf, mr, sr)
    diff = mf - mr
    if method == "fd-sqrtm":  # pytorch-fid fid_score.calculate_frechet_distance
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            covmean, _ = linalg.sqrtm(sf.dot(sr), disp=False)
        tr = np.trace(covmean.real)
    else:  # torch-fidelity metric_fid.fid_statistics_to_metric
        tr = np.sum(np.sqrt(np.linalg.eigvals(sf.dot(sr)).astype("complex128")).real)
    return float(diff @ diff + np.trace(sf) + np.trace(sr) - 2 * tr)


def _case_fd(n: int) -> dict:
    """The generated covariance once (timed), then every method's FD from the same statistics."""
    from genbench.metrics.functional import feature_stats

    ref, fake = _reference(n), _features(n, 2, 0.05)
    base = _status_gib("VmRSS")
    t0 = time.process_time()
    mf, sf = feature_stats(fake)
    out = {"stats_s": time.process_time() - t0, "before_gib": base, "methods": {}}
    for method in FD_METHODS:
        t1, w1 = time.process_time(), time.perf_counter()
        value = _fd_peer(method, mf, sf, ref)
        out["methods"][method] = {"fd_s": time.process_time() - t1, "wall_s": time.perf_counter() - w1,
                                  "value": value}
    return out


def _floor(fake: np.ndarray) -> float:
    """One Gram product of the rows (dsyrk, N·d²) plus one eigvalsh at d: an exact replicate's floor."""
    from scipy.linalg.blas import dsyrk

    import torch

    x = np.asarray(fake, dtype=np.float64)
    t0 = time.process_time()
    g = dsyrk(1.0, x.T, trans=0)
    torch.linalg.eigvalsh(torch.from_numpy(g), UPLO="U")
    return time.process_time() - t0


def _case_fd_ci(n: int) -> dict:
    boot = B_RUN.get(n, B_SHORT)
    from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all
    from genbench.metrics.functional_fd_fast import FixedReference, GeneratedResampler

    load_all()
    ref, fake = _reference(n), _features(n, 2, 0.05)
    inputs = MetricInputs({"fake.embedding": fake, "real.mean": ref["mu"], "real.cov": ref["sigma"],
                           "real.cov_sqrt": ref["root"], "real.n": n})
    metric = METRICS.get("fd")()
    base = _status_gib("VmRSS")
    t0 = time.process_time()
    compute_with_ci(metric, inputs, MetricConfig(bootstrap=0))
    t1 = time.process_time()
    out = compute_with_ci(metric, inputs, MetricConfig(bootstrap=boot))["fd"]
    t2 = time.process_time()
    GeneratedResampler(fake, FixedReference.of(ref["mu"], ref["sigma"], ref["root"]))  # the one-off setup
    setup = time.process_time() - t2  # rows centred and rotated into the root's basis (N·d²)
    rep = (t2 - t1 - (t1 - t0) - setup) / boot
    return {"point_s": t1 - t0, "ci_s": t2 - t1, "setup_s": setup, "rep_s": rep, "floor_s": _floor(fake),
            "boot": boot, "ci200_s": (t1 - t0) + setup + BOOT * rep, "value": out.value, "ci95": list(out.ci95),
            "before_gib": base}


def _case_prdc(method: str, n: int) -> dict:
    import prdc as prdc_pkg

    from genbench.metrics.functional import prdc
    from genbench.metrics.knn import Tiling

    real, fake = _features(n, 1, 0.0), _features(n, 2, 0.05)
    base = _status_gib("VmRSS")
    t0 = time.process_time()
    if method == "prdc-genbench":
        out = prdc(real, fake, 3, 5, Tiling(2048))
    else:  # prdc uses one k for all four; run it twice (k = 3 for P/R, k = 5 for D/C) like genbench's pair
        with contextlib.redirect_stdout(io.StringIO()):
            a, b = prdc_pkg.compute_prdc(real, fake, 3), prdc_pkg.compute_prdc(real, fake, 5)
        out = {"precision": float(a["precision"]), "recall": float(a["recall"]),
               "density": float(b["density"]), "coverage": float(b["coverage"])}
    return {"seconds": time.process_time() - t0, "values": out, "before_gib": base}


def run_case(which: str, n: int) -> dict:
    if which == "fd":
        out = _case_fd(n)
    elif which == "fd-ci":
        out = _case_fd_ci(n)
    else:
        out = _case_prdc(which, n)
    return dict(out, which=which, n=n, peak_gib=_status_gib("VmHWM"))


def _subprocess_case(which: str, n: int) -> dict:
    cmd = [sys.executable, "-m", "tests.benchmarks.bench_metrics", "--case", which, "--n", str(n)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return json.loads(res.stdout.strip().splitlines()[-1])


def prdc_estimate_gib(n: int) -> float:
    """prdc's peak above its inputs: float32 N×N distances + int64 N×N argpartition indices (self radii),
    then the float32 real×fake matrix with N×N boolean comparisons: ≈ 13·N² bytes (12.8 measured at 10k)."""
    return 13.0 * n * n / GIB


class Tables:
    """The three tables, filled one measured row at a time."""

    def __init__(self) -> None:
        self.fd = ["| N | method | FD from statistics, CPU s | wall s | CPU time / genbench | FD "
                   "| rel. diff vs genbench | generated cov, CPU s | peak RSS of the case (GiB) |",
                   "|---|---|---|---|---|---|---|---|---|"]
        self.ci = ["| N | B run | FD + 95% CI, B run (CPU s) | FD + 95% CI, B = 200 (CPU s, extrapolated) "
                   "| one FD: generated cov + FD (CPU s) | one-off setup (CPU s) | per replicate (CPU s) "
                   "| floor: Gram + eigvalsh (CPU s) | replicate / floor | peak RSS (GiB) | FD [95% CI from B run] |",
                   "|---|---|---|---|---|---|---|---|---|---|---|"]
        self.prdc = ["| N real = N fake | method | CPU s | peak RSS (GiB) | RSS before the call (GiB) "
                     "| P / R / D / C |", "|---|---|---|---|---|---|"]
        self.loads: list[str] = []

    def add(self, c: dict) -> None:
        n, w = f"{c['n']:,}", c["which"]
        if w == "fd":
            ours = c["methods"]["fd-genbench"]
            for m, r in c["methods"].items():
                rel = abs(r["value"] - ours["value"]) / abs(ours["value"])
                self.fd.append(f"| {n} | {LABELS[m]} | {r['fd_s']:.2f} | {r['wall_s']:.1f} "
                               f"| {r['fd_s'] / ours['fd_s']:.1f}× | {r['value']:.6f} | {rel:.1e} "
                               f"| {c['stats_s']:.2f} | {c['peak_gib']:.2f} |")
        elif w == "fd-ci":
            lo, hi = c["ci95"]
            self.ci.append(f"| {n} | {c['boot']} | {c['ci_s']:.1f} | {c['ci200_s']:.0f} | {c['point_s']:.2f} "
                           f"| {c['setup_s']:.2f} "
                           f"| {c['rep_s']:.3f} | {c['floor_s']:.3f} | {c['rep_s'] / c['floor_s']:.2f} "
                           f"| {c['peak_gib']:.2f} | {c['value']:.3f} [{lo:.3f}, {hi:.3f}] |")
        else:
            v = " / ".join(f"{c['values'][k]:.4f}" for k in ("precision", "recall", "density", "coverage"))
            self.prdc.append(f"| {n} | {LABELS[w]} | {c['seconds']:.1f} | {c['peak_gib']:.2f} | "
                             f"{c['before_gib']:.2f} | {v} |")


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def bench(sizes: list[int], methods: list[str], on_row=lambda t: None,
          plan: list[tuple[str, int]] | None = None, results: str | None = None) -> Tables:
    """Run `plan` ((case, N) in order; default: every method for every size) and fill the tables. With
    `results` (a JSON-lines file), earlier cases found there are shown too and new ones appended, so a
    long series can be resumed."""
    t = Tables()
    if results and os.path.exists(results):
        with open(results) as f:
            for line in f:
                c = json.loads(line)
                t.add(c)
                t.loads.append(c.get("load", ""))
    for which, n in plan or [(w, n) for n in sizes for w in methods]:
        if which == "prdc-pkg" and prdc_estimate_gib(n) > PRDC_RUN_BUDGET_GIB:
            t.prdc.append(f"| {n:,} | {LABELS[which]} | skipped: N × N matrices ≈ {prdc_estimate_gib(n):.0f} "
                          f"GiB | – | – | – |")
            continue
        before = _load()
        c = _subprocess_case(which, n)
        t.add(c)
        t.loads.append(f"{which} N={n:,}: load {before} -> {_load()}")
        c["load"] = t.loads[-1]
        if results:
            with open(results, "a") as f:
                f.write(json.dumps(c) + "\n")
        print(json.dumps(c), flush=True)
        on_row(t)
    return t


def _body(t: Tables) -> str:
    import torch

    env = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared by other sessions, "
           f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch threads "
           f"{torch.get_num_threads()}, numpy {np.__version__}")
    return "\n".join([
        f"Measured by `tests/benchmarks/bench_metrics.py` on {env}. The machine was NOT idle (load average "
        "about 25 on 2 cores; before -> after each case at the end), so every time is the case process's "
        "CPU time (time.process_time) on one thread, which is what the same work takes on one idle core; "
        "wall times were 10-15× longer. Two idle cores would be faster still for the BLAS-bound parts.", "",
        f"Synthetic {DIM}-d features (standard normal rows times a fixed mixing matrix). Each case runs in its "
        "own subprocess; peak RSS is VmHWM (interpreter, torch, features and the case's work).", "",
        f"### FD at {DIM}-d against a reference given as statistics", "",
        "The reference's mean, covariance and covariance root are computed before timing, as a "
        "reference-statistics file provides them. Every method forms the generated set's covariance "
        "(np.cov, float64) first; then FD from the two sets' statistics.", "", *t.fd, "",
        f"### FD with a 95% bootstrap interval, B = {BOOT}", "",
        f"Each case runs B = {B_SHORT} replicates ({B_RUN[50_000]} at N = 50,000; at this machine's load B = {BOOT} "
        f"would have taken hours of wall time) and extrapolates: one FD + {BOOT} × the per-replicate CPU time. "
        "The interval shown is the short run's.", "",
        "`compute_with_ci` over the fd metric with the reference as statistics: the generated set is resampled "
        "(the reference is fixed; see genbench/metrics/functional_fd_fast.py), each replicate a weighted "
        "symmetric rank-k update of the rows in the reference root's basis plus one eigvalsh. Floor: one "
        "Gram product of all N rows (dsyrk) plus one eigvalsh, timed in the same process.", "", *t.ci, "",
        f"### Precision / recall / density / coverage, {DIM}-d float32 features, k = 3 (P/R) and 5 (D/C)", "",
        "genbench: `functional.prdc`, tiles of 2,048 rows, float64 distances, three tiled passes (real×real and "
        "fake×fake use symmetry). prdc: `prdc.compute_prdc` twice (k = 3, k = 5), full N×N matrices; skipped "
        f"where its matrices (≈ 13·N² bytes) exceed {PRDC_RUN_BUDGET_GIB:.0f} GiB on this shared machine.", "",
        *t.prdc, "", "Load averages (1/5/15 min) before -> after each case:", "",
        *[f"- {line}" for line in t.loads]])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2_000, 10_000, 50_000])
    ap.add_argument("--methods", nargs="*", default=list(CASES), choices=CASES)
    ap.add_argument("--case", choices=CASES)
    ap.add_argument("--n", type=int)
    ap.add_argument("--plan", nargs="*", default=None, help="case:N in order, e.g. fd-ci:10000 fd:10000")
    ap.add_argument("--results", default=None, help="JSON-lines file of cases: shown, and appended to")
    args = ap.parse_args([] if argv is None else argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.n)))
        return
    from tests.benchmarks.sections import write_section

    plan = [(p.split(":")[0], int(p.split(":")[1])) for p in args.plan] if args.plan else None
    bench(args.sizes, args.methods, lambda t: write_section("Metrics", _body(t)), plan, args.results)


if __name__ == "__main__":
    main(sys.argv[1:])
