"""Metric maths benchmarks at 2048-d, written to BENCHMARKS.md under "## Metrics".

For N = 2,000, 10,000 and 50,000 generated and reference rows, side by side in one run, each case in a
fresh subprocess that reports wall time and peak RSS (VmHWM):
1. FD against a reference given as statistics (mean, covariance and its cached root, as a
   reference-statistics file holds them): genbench (`functional.fd_fast.frechet_distance_rooted`),
   genbench without a cached root (`functional.fd.frechet_distance`, two eigh), scipy.linalg.sqrtm as
   pytorch-fid computes it, and torch-fidelity's `eigvals` of Σ₁Σ₂ (`metric_fid.fid_statistics_to_metric`).
   Each also forms the generated set's covariance (timed apart).
2. FD with its 95% bootstrap interval, B = 200 (genbench.metrics.bootstrap.compute_with_ci over the fd
   metric; the generated set is resampled, the reference fixed), the per-replicate cost beside the floor
   measured on the same machine: one Gram product of the features (N·d², `dsyrk`) plus one `eigvalsh`.
3. Precision / recall / density / coverage (k = 3 / 5): genbench `functional.prdc` vs the `prdc` package,
   the latter only where its N × N matrices fit (see PRDC_RUN_BUDGET_GIB).

Synthetic features: standard normal rows times a fixed random mixing matrix (correlated covariance).
Run on an idle machine: .venv/bin/python -m tests.benchmarks.bench_metrics [--sizes 2000 10000 50000]
(all cores). On a shared, loaded machine multithreaded LAPACK is 10-25× slower than one thread: there use
OMP_NUM_THREADS=1 and read the CPU-s columns, and GENBENCH_BENCH_B_RUN=10 to extrapolate the B = 200 interval.
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
from datetime import date

import numpy as np

DIM = 2048
BOOT = 200
FD_REPEATS = 3  # FD from statistics: the fastest of this many runs after one warm-up run of every method
PRDC_RUN_BUDGET_GIB = 8.0  # prdc is run where its estimated peak fits this (the box is shared); else skipped
GIB = 1024**3
FD_METHODS = ("fd-genbench", "fd-genbench-noroot", "fd-sqrtm", "fd-eigvals")
CASES = ("fd", "fd-ci", "prdc-genbench", "prdc-pkg")
B_RUN_ENV = "GENBENCH_BENCH_B_RUN"  # replicates actually run (default BOOT); fewer extrapolate to BOOT
LABELS = {"fd-genbench": "genbench, cached reference root", "fd-genbench-noroot": "genbench, cold (Cholesky + eigvalsh)",
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


def _reset_peak() -> None:
    """Start VmHWM afresh (Linux clear_refs 5), so that the peak is the timed work's, not the set-up's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # elsewhere the peak includes building the synthetic features


def _reference(n: int) -> dict:
    """What a reference-statistics file holds: mean, covariance, its root (computed before timing)."""
    from genbench.metrics.functional import feature_stats
    from genbench.metrics.functional.fd_fast import psd_sqrt

    mu, sigma = feature_stats(_features(n, 1, 0.0))
    return {"mu": mu, "sigma": sigma, "root": psd_sqrt(sigma)}


def _fd_peer(method: str, mf: np.ndarray, sf: np.ndarray, ref: dict) -> float:
    import warnings

    from scipy import linalg

    from genbench.metrics.functional import frechet_distance
    from genbench.metrics.functional.fd_fast import frechet_distance_rooted

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
    _reset_peak()
    t0 = time.process_time()
    mf, sf = feature_stats(fake)
    out = {"stats_s": time.process_time() - t0, "before_gib": base, "methods": {}}
    for method in FD_METHODS:  # warm-up: the first LAPACK/BLAS calls of a process pay one-off set-up
        _fd_peer(method, mf, sf, ref)
    for method in FD_METHODS:
        runs = []
        for _ in range(FD_REPEATS):
            t1, w1 = time.process_time(), time.perf_counter()
            value = _fd_peer(method, mf, sf, ref)
            runs.append((time.perf_counter() - w1, time.process_time() - t1))
        wall, cpu = min(runs)
        out["methods"][method] = {"fd_s": cpu, "wall_s": wall, "value": value}
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
    boot = int(os.environ.get(B_RUN_ENV, BOOT))
    from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all
    from genbench.metrics.functional.fd_fast import FixedReference, GeneratedResampler

    load_all()
    ref, fake = _reference(n), _features(n, 2, 0.05)
    inputs = MetricInputs({"fake.embedding": fake, "real.mean": ref["mu"], "real.cov": ref["sigma"],
                           "real.cov_sqrt": ref["root"], "real.n": n})
    metric = METRICS.get("fd")()
    base = _status_gib("VmRSS")
    _reset_peak()
    t0, w0 = time.process_time(), time.perf_counter()
    compute_with_ci(metric, inputs, MetricConfig(bootstrap=0))
    t1, w1 = time.process_time(), time.perf_counter()
    out = compute_with_ci(metric, inputs, MetricConfig(bootstrap=boot))["fd"]
    t2, w2 = time.process_time(), time.perf_counter()
    GeneratedResampler(fake, FixedReference.of(ref["mu"], ref["sigma"], ref["root"]))  # the one-off setup
    setup = time.process_time() - t2  # rows centred and rotated into the root's basis (N·d²)
    rep = (t2 - t1 - (t1 - t0) - setup) / boot
    return {"point_s": t1 - t0, "ci_s": t2 - t1, "ci_wall_s": w2 - w1, "point_wall_s": w1 - w0, "setup_s": setup, "rep_s": rep, "floor_s": _floor(fake),
            "boot": boot, "ci200_s": (t1 - t0) + setup + BOOT * rep, "value": out.value, "ci95": list(out.ci95),
            "before_gib": base}


def _case_prdc(method: str, n: int) -> dict:
    import prdc as prdc_pkg

    from genbench.metrics.functional import prdc
    from genbench.metrics.knn import Tiling

    real, fake = _features(n, 1, 0.0), _features(n, 2, 0.05)
    base = _status_gib("VmRSS")
    _reset_peak()
    t0, w0 = time.process_time(), time.perf_counter()
    if method == "prdc-genbench":
        out = prdc(real, fake, 3, 5, Tiling(2048))
    else:  # prdc uses one k for all four; run it twice (k = 3 for P/R, k = 5 for D/C) like genbench's pair
        with contextlib.redirect_stdout(io.StringIO()):
            a, b = prdc_pkg.compute_prdc(real, fake, 3), prdc_pkg.compute_prdc(real, fake, 5)
        out = {"precision": float(a["precision"]), "recall": float(a["recall"]),
               "density": float(b["density"]), "coverage": float(b["coverage"])}
    return {"seconds": time.process_time() - t0, "wall_s": time.perf_counter() - w0, "values": out,
            "before_gib": base}


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
        self.fd = ["| N | method | FD from statistics, wall s | CPU s | wall time / genbench | FD "
                   "| rel. diff vs genbench | generated cov, CPU s | peak RSS of the case (GiB) |",
                   "|---|---|---|---|---|---|---|---|---|"]
        self.ci = ["| N | B run | FD + 95% CI, wall s (B run) | FD + 95% CI, CPU s (B run) "
                   "| B = 200, wall s (measured, or extrapolated when B run < 200) "
                   "| one FD: generated cov + FD (CPU s) | one-off setup (CPU s) | per replicate (CPU s) "
                   "| floor: Gram + eigvalsh (CPU s) | replicate / floor | peak RSS (GiB) | FD [95% CI] |",
                   "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        self.prdc = ["| N real = N fake | method | wall s | CPU s | peak RSS (GiB) | RSS before the call (GiB) "
                     "| P / R / D / C |", "|---|---|---|---|---|---|---|"]
        self.loads: list[str] = []
        self.verdicts: list[str] = []

    def add(self, c: dict) -> None:
        n, w = f"{c['n']:,}", c["which"]
        self.verdicts += _verdicts(c)
        if w == "fd":
            ours = c["methods"]["fd-genbench"]
            for m, r in c["methods"].items():
                rel = abs(r["value"] - ours["value"]) / abs(ours["value"])
                self.fd.append(f"| {n} | {LABELS[m]} | {r['wall_s']:.2f} | {r['fd_s']:.2f} "
                               f"| {r['wall_s'] / ours['wall_s']:.1f}× | {r['value']:.6f} | {rel:.1e} "
                               f"| {c['stats_s']:.2f} | {c['peak_gib']:.2f} |")
        elif w == "fd-ci":
            lo, hi = c["ci95"]
            wall = c.get("ci_wall_s", float("nan"))
            b200 = (f"{wall + c.get('point_wall_s', 0.0):.0f}" if c["boot"] == BOOT else
                    f"≈ {c.get('point_wall_s', 0.0) + wall * BOOT / c['boot']:.0f} (extrapolated)")
            self.ci.append(f"| {n} | {c['boot']} | {wall:.1f} | {c['ci_s']:.1f} | {b200} | {c['point_s']:.2f} "
                           f"| {c['setup_s']:.2f} "
                           f"| {c['rep_s']:.3f} | {c['floor_s']:.3f} | {c['rep_s'] / c['floor_s']:.2f} "
                           f"| {c['peak_gib']:.2f} | {c['value']:.3f} [{lo:.3f}, {hi:.3f}] |")
        else:
            v = " / ".join(f"{c['values'][k]:.4f}" for k in ("precision", "recall", "density", "coverage"))
            self.prdc.append(f"| {n} | {LABELS[w]} | {c.get('wall_s', float('nan')):.1f} | {c['seconds']:.1f} "
                             f"| {c['peak_gib']:.2f} | "
                             f"{c['before_gib']:.2f} | {v} |")


def _verdicts(c: dict) -> list[str]:
    """Issue #8's targets, checked against one measured case (wall times)."""
    n, w = f"{c['n']:,}", c["which"]
    if w == "fd":
        m = c["methods"]
        ours = m["fd-genbench"]["wall_s"]
        a, b = m["fd-sqrtm"]["wall_s"] / ours, m["fd-eigvals"]["wall_s"] / ours
        return [f"FD from statistics, N = {n}: {a:.1f}× faster than scipy sqrtm (goal ≥ 10×), {b:.1f}× faster "
                f"than torch-fidelity's eigvals (goal ≥ 2×): {'met' if a >= 10 and b >= 2 else 'NOT met'}"]
    if w == "fd-ci" and c["n"] == 10_000 and c["boot"] == BOOT:
        t = c["ci_wall_s"] + c["point_wall_s"]
        return [f"FD + 95% CI, N = {n}, B = {BOOT}: {t:.0f} s wall (goal ≤ 180 s): {'met' if t <= 180 else 'NOT met'}"]
    if w == "prdc-genbench" and c["n"] == 50_000:
        t, g = c["wall_s"], c["peak_gib"]
        return [f"P/R/D/C at 50,000 × 50,000: {t:.0f} s wall (goal < 600 s), peak RSS {g:.2f} GiB (goal ≤ 4 GiB): "
                f"{'met' if t < 600 and g <= 4 else 'NOT met'}"]
    return []


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
                          f"GiB | – | – | – | – |")
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

    threads = torch.get_num_threads()
    env = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {threads} "
           f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), numpy {np.__version__}, "
           f"torch {torch.__version__}")
    b_run = int(os.environ.get(B_RUN_ENV, BOOT))
    return "\n".join([
        f"Measured by `tests/benchmarks/bench_metrics.py` on {env}, on {date.today().isoformat()}. "
        "The load average before and after each case is listed at the end: the figures are only as good as "
        "the machine was idle. Wall s is what a user waits; CPU s (time.process_time, all threads) is the "
        "work, which is what one core would take.", "",
        "Issue #8's targets in this run:", "", *[f"- {v}" for v in t.verdicts], "",
        f"Synthetic {DIM}-d features (standard normal rows times a fixed mixing matrix). Each case runs in its "
        "own subprocess; peak RSS is VmHWM from the start of the timed work (reset with /proc/self/clear_refs "
        "after the inputs were built), so it counts the interpreter, torch and the resident inputs (the "
        "RSS before the call) plus what the work adds.", "",
        f"### FD at {DIM}-d against a reference given as statistics", "",
        "The reference's mean, covariance and covariance root are computed before timing, as a "
        "reference-statistics file provides them. Every method forms the generated set's covariance "
        "(np.cov, float64) first; then FD from the two sets' statistics. Each method runs once untimed, then "
        f"the fastest of {FD_REPEATS} runs is shown.", "", *t.fd, "",
        f"### FD with a 95% bootstrap interval, B = {BOOT}", "",
        (f"Each case runs all B = {BOOT} replicates." if b_run == BOOT else
         f"Each case runs B = {b_run} replicates and extrapolates to B = {BOOT} from the wall time per replicate "
         f"(set {B_RUN_ENV} to run fewer on a loaded machine)."), "",
        "`compute_with_ci` over the fd metric with the reference as statistics: the generated set is resampled "
        "(the reference is fixed; see genbench/metrics/functional/fd_fast.py), each replicate a weighted "
        "symmetric rank-k update of the rows in the reference root's basis plus one eigvalsh. Floor: one "
        "Gram product of all N rows (dsyrk) plus one eigvalsh, timed in the same process.", "", *t.ci, "",
        f"### Precision / recall / density / coverage, {DIM}-d float32 features, k = 3 (P/R) and 5 (D/C)", "",
        "genbench: `functional.prdc`, tiles of 2,048 rows, float64 distances, three tiled passes (real×real and "
        "fake×fake use symmetry). prdc: `prdc.compute_prdc` twice (k = 3, k = 5), full N×N matrices; skipped "
        f"where its matrices (≈ 13·N² bytes) exceed {PRDC_RUN_BUDGET_GIB:.0f} GiB.", "",
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
