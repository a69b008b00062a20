"""Operating characteristics of `genbench gate` under digits-default's default rules.

How often does the gate fail a candidate that is as good as the baseline (false alarm), and how often
does it catch a real regression (detection)? Measured at N = 1,000 against the protocol's reference
(digits-test, 359 images), with digits-default version 2's rules fd<=+15, recall>=-0.13,
classes_covered>=-0 and fd_pixels<=+0.25 and the CLI's paired bootstrap (B = 200) of each difference.

Draws. digits has 1,797 images: 1,438 in digits-train, 359 in digits-test (the reference). Disjoint
real subsets of 1,000 cannot be drawn twice from 1,438, so every set (baseline and candidate alike) is
N rows drawn with replacement from a pool: digits-train itself (real, 1,438), digits-train without
1 or 2 classes (chosen per trial), digits-train blurred (3x3 binomial kernel mixed half and half with
the image) or noised (Gaussian, σ = 25 of 255) (gate_pools.blur / noise), or 1,000 samples (seeds
0-999, DDIM 50 steps) of a DDPM trained on digits-train with the quick preset for a quarter of its
steps (375 of 1,500; only when runs/bench-gate/ddpm-quarter exists). Each trial draws a fresh baseline
from digits-train and a fresh candidate; the bootstrap seed is the trial's.

Path measured. Features are computed once per pool (digits-classifier and pixels); each trial runs
genbench.compare.paired.differences and genbench.compare.gate.paired_outcomes on index draws: the
gate's own decision code on the rows a baseline's features file holds, without writing the files per
trial (the files' round trip is exact: float32 rows in, the same float32 rows out, tested in
tests/unit/test_gate_files.py) and without the network.

Cost. Run: `nice python -m tests.benchmarks.bench_gate [TRIALS_NULL TRIALS_ALT]` (default 100 and 30); trials
are kept in runs/bench-gate/trials*.json and resumed; `--table` only rewrites the section from them;
`--null-only` / `--alt-only` run the real-vs-real / regression trials alone, `--n=600` one N only
(parallel workers).
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

import numpy as np

from genbench.compare.gate import FAIL, INCONCLUSIVE, PASS, GateReport, default_rules, paired_outcomes
from genbench.io import atomic_write_json
from genbench.compare.paired import Side, differences
from genbench.protocols import PROTOCOLS
from tests.benchmarks.gate_pools import ROOT, pools, quarter_ready
from tests.benchmarks.sections import write_section

PROTO = PROTOCOLS.get("digits-default")
DIRECTIONS = {"fd": False, "recall": True, "classes_covered": True, "fd_pixels": False}
SIZES = (1000, 600)
REPS = 200
CONDITIONS = ("real-vs-real", "1 class missing", "2 classes missing", "mild blur", "added noise",
              "DDPM at 1/4 steps")
OUT_DIR = ROOT / "runs" / "bench-gate"


def _candidate_rows(cond: str, rng: np.random.Generator, labels: np.ndarray, n: int,
                    feats: dict) -> tuple[str, np.ndarray]:
    """(pool name, rows) of one candidate draw."""
    pool = {"mild blur": "blur", "added noise": "noise", "DDPM at 1/4 steps": "ddpm-quarter"}.get(cond, "real")
    allowed = np.arange(len(feats[pool]["embedding"]))
    if cond.endswith("missing"):
        missing = rng.choice(10, size=int(cond[0]), replace=False)
        allowed = allowed[~np.isin(labels, missing)]
    return pool, allowed[rng.integers(0, len(allowed), n)]


def trial(feats: dict, labels: np.ndarray, ref: dict, cond: str, n: int, i: int, memo: dict,
          paired: bool = True) -> dict:
    rng = np.random.default_rng([n, CONDITIONS.index(cond), i])
    base = Side(feats["real"], rng.integers(0, len(labels), n))
    pool, rows = _candidate_rows(cond, rng, labels, n, feats)
    rules = default_rules(PROTO, DIRECTIONS)
    cls = [r.metric for r in rules if not r.metric.endswith("_pixels")]
    diffs = differences(cls, Side(_only(feats[pool], "pixels"), rows), Side(_only(feats["real"], "pixels"), base.index),
                        Side(_only(ref, "pixels")), PROTO.config, reps=REPS, seed=i, paired=paired,
                        context={"dataset": "digits-test"}, memo=memo, params=PROTO.params)
    pix = differences(["fd"], Side({"embedding": feats[pool]["pixels"]}, rows),
                      Side({"embedding": feats["real"]["pixels"]}, base.index), Side({"embedding": ref["pixels"]}),
                      PROTO.config, reps=REPS, seed=i, paired=paired, memo=memo, params=PROTO.params)
    diffs["fd_pixels"] = pix["fd"]
    outcomes = paired_outcomes(rules, diffs)
    report = GateReport(outcomes, cond, "real", f"digits-default@{PROTO.version}")
    return {"condition": cond, "n": n, "trial": i, "status": report.status, "interval": _interval(paired),
            "rules": {o.rule.metric: o.status for o in outcomes},
            "diff": {o.rule.metric: [o.diff, o.lo, o.hi] for o in outcomes}}


def _interval(paired: bool) -> str:
    return "paired" if paired else "independent"


def _key(d: dict) -> tuple:
    return d["condition"], d["n"], d["trial"], d.get("interval", "paired")


def _only(arrays: dict, drop: str) -> dict:
    return {k: v for k, v in arrays.items() if k != drop}


def load_trials() -> list[dict]:
    """Every trial recorded so far (one file per worker), each (condition, N, trial) once."""
    rows = {}
    for path in sorted(OUT_DIR.glob("trials*.json")):
        rows.update({_key(d): d for d in json.loads(path.read_text())})
    return list(rows.values())


def run(trials_null: int, trials_alt: int, conditions: tuple[str, ...] = CONDITIONS, worker: str = "",
        sizes: tuple[int, ...] = SIZES, paired: bool = True) -> list[dict]:
    """Run the missing trials of `conditions`; a worker name keeps parallel workers' files apart."""
    feats, labels, ref = pools()
    out = OUT_DIR / f"trials{worker}.json"
    mine = json.loads(out.read_text()) if out.is_file() else []
    have = {_key(d) for d in load_trials()}
    memo: dict = {}
    for i in range(max(trials_null, trials_alt)):  # round robin: every cell grows at the same pace
        for cond in conditions:
            if cond == "DDPM at 1/4 steps" and "ddpm-quarter" not in feats and not quarter_ready():
                continue  # being sampled elsewhere; its trials join in later rounds
            for n in sizes:
                if (i < (trials_null if cond == "real-vs-real" else trials_alt)
                        and (cond, n, i, _interval(paired)) not in have):
                    mine.append(trial(feats, labels, ref, cond, n, i, memo, paired))
                    atomic_write_json(out, mine)
        print(f"round {i + 1} done", flush=True)
    return load_trials()


def _rate(k: int, m: int) -> str:
    return f"{100.0 * k / m:.0f}% ({k}/{m})"


def _half(sel: list[dict], metric: str) -> str:
    w = [(r["diff"][metric][2] - r["diff"][metric][1]) / 2 for r in sel if metric in r["diff"]]
    return f"{np.mean(w):.3g}" if w else "-"


def _row(cond: str, interval: str, n: int, sel: list[dict]) -> str:
    c = Counter(r["status"] for r in sel)
    why = Counter(m for r in sel for m, s in r["rules"].items() if s == FAIL)
    return (f"| {cond} | {interval} | {n:,} | {len(sel)} | {_rate(c[FAIL], len(sel))} | "
            f"{_rate(c[INCONCLUSIVE], len(sel))} | {_rate(c[PASS], len(sel))} | "
            f"{_rate(c[FAIL] + c[INCONCLUSIVE], len(sel))} | {_half(sel, 'fd')} / {_half(sel, 'fd_pixels')} | "
            + (", ".join(f"{m} {k}" for m, k in why.most_common()) or "-") + " |")


def table(rows: list[dict]) -> str:
    lines = ["| candidate | interval | N | trials | fail | inconclusive | pass | fail or inconclusive | "
             "mean 95% half-width fd / fd_pixels | failing rules |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for n, interval, cond in ((n, iv, c) for n in SIZES for iv in ("paired", "independent") for c in CONDITIONS):
        sel = [r for r in rows if r["n"] == n and r["condition"] == cond and r.get("interval", "paired") == interval]
        if sel:
            lines.append(_row(cond, interval, n, sel))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nums = [int(a) for a in args if a.isdigit()]
    trials_null, trials_alt = (nums[0], nums[1]) if len(nums) >= 2 else (100, 30)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    sizes = tuple(n for n in SIZES if f"--n={n}" in args) or SIZES
    if "--null-only" in args:  # a second worker: real-vs-real draws only, in their own file
        rows = run(trials_null, 0, CONDITIONS[:1], worker="-null" + "".join(f"-{n}" for n in sizes), sizes=sizes)
    elif "--fallback" in args:  # the independent intervals of the gate's fallback, in their own file
        rows = run(trials_null, trials_alt, worker="-fallback" + "".join(f"-{n}" for n in sizes), sizes=sizes,
                   paired=False)
    elif "--alt-only" in args:
        rows = run(0, trials_alt, CONDITIONS[1:], worker="-alt" + "".join(f"-{n}" for n in sizes), sizes=sizes)
    else:
        rows = load_trials() if "--table" in args else run(trials_null, trials_alt)
    minutes = (time.perf_counter() - t0) / 60
    load = next((a.split("=", 1)[1] for a in args if a.startswith("--load=")),
                f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    body = (__doc__.split("\n\n", 1)[1].rsplit("\n\nCost.", 1)[0] + "\n\n" + table(rows) + "\n\n"
            f"Measured on the 2-core CPU machine shared with other jobs (load average {load}); "
            + ("" if "--table" in args else f"{minutes:.1f} min for the trials not already recorded; ")
            + "about 0.75 CPU-seconds per trial (B = 200). \"fail\" is exit 1 under --lenient; "
            "\"fail or inconclusive\" is exit 1 under the default (--strict).")
    write_section("Release gate: operating characteristics (digits-default)", body)
    print(table(rows))


if __name__ == "__main__":
    main()
