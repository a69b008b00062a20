"""False alarms conditional on the one baseline a user records (issue #28, point 2; digits-default, N = 1,000).

A user records one baseline and gates every later candidate against it, so the false-alarm rate that
matters is the one of *their* baseline, not the average over baselines: a baseline that happened to
score well on a gated metric makes later unchanged candidates look like regressions against it.

Design. BASELINES baselines, each N rows drawn with replacement from digits-train's features (the real
pool, as bench_gate's baselines), and CANDIDATES real candidates per baseline, fresh draws from the same
pool: every candidate is as good as the baseline, so every stop is a false alarm. Each pair is decided by
gate_decision.decide_rows: the CLI gate's own decision code on the two sets' feature rows (paired
bootstrap, B = 200, seeded per pair; class_share's direct test), under digits-default's default rules.
The end-to-end path through files (bench_gate.py) gives the same decision on the same rows (a features
file round trip is exact, tests/unit/test_gate_files.py); this one skips the files and the process.
Each pair's per-rule difference and interval are kept, so the rates under other tolerances are read off
the same trials (`rates_at`).

For each baseline the table also gives where it stands on each gated metric among the real draws of its
size: the share of the candidates (draws of the same distribution) whose own value is worse than the
baseline's (its percentile: 90% means better than 9 in 10 draws).

Run: `nice python -m tests.benchmarks.bench_baselines [BASELINES CANDIDATES]` (default 10 and 40); the
trials are kept in runs/bench-baselines/trials.json and resumed; `--table` only rewrites the section.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from genbench.compare.gate import Rule, default_rules, status_of
from genbench.io import atomic_write_json
from tests.benchmarks.gate_decision import DIRECTIONS, PROTO, decide_rows
from tests.benchmarks.gate_pools import ROOT, pools
from tests.benchmarks.sections import write_section

N = 1000
OUT = ROOT / "runs" / "bench-baselines" / "trials.json"
RULES = default_rules(PROTO, DIRECTIONS)


def rows_of(b: int, c: int | None, pool_size: int) -> np.ndarray:
    """Rows of baseline b (c None) or of its candidate c, seeded by (b, c)."""
    rng = np.random.default_rng([0xBA5E, b, 0 if c is None else c + 1])
    return rng.integers(0, pool_size, N)


def run(baselines: int, candidates: int) -> list[dict]:
    feats, labels, ref = pools()
    done = json.loads(OUT.read_text()) if OUT.is_file() else []
    have = {(d["baseline"], d["candidate"]) for d in done}
    memo: dict = {}
    t0 = time.perf_counter()
    for c in range(candidates):  # round robin: every baseline grows at the same pace
        for b in range(baselines):
            if (b, c) in have:
                continue
            base, rows = rows_of(b, None, len(labels)), rows_of(b, c, len(labels))
            done.append({"baseline": b, "candidate": c, **decide_rows(feats, ref, "real", rows, base, 1000 * b + c,
                                                                       memo)})
            atomic_write_json(OUT, done)
        print(f"candidate {c + 1}/{candidates} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    return done


def stops(trial: dict, rules: list[Rule]) -> list[str]:
    """The rules that do not pass on this trial's intervals (strict gate: inconclusive stops)."""
    return [r.metric for r in rules if status_of(r, *trial["diff"][r.metric][1:]) != "pass"]


def rates_at(trials: list[dict], rules: list[Rule]) -> dict[int, tuple[int, int]]:
    """{baseline: (stops, trials)} under `rules`."""
    out: dict[int, list[int]] = {}
    for t in trials:
        k = out.setdefault(t["baseline"], [0, 0])
        k[0] += bool(stops(t, rules))
        k[1] += 1
    return {b: (s, m) for b, (s, m) in sorted(out.items())}


def percentile(trials: list[dict], b: int, metric: str, higher: bool) -> float:
    """Share of baseline b's candidates whose own value is worse than the baseline's on `metric`: from each
    pair's recorded difference d = candidate − baseline, a candidate is worse when d < 0 (higher is better)."""
    d = np.array([t["diff"][metric][0] for t in trials if t["baseline"] == b])
    return float(np.mean(d < 0 if higher else d > 0))


def _summary(rates: dict[int, tuple[int, int]]) -> str:
    fa = np.array([s / m for s, m in rates.values()])
    return (f"mean {100 * fa.mean():.1f}%, median {100 * np.median(fa):.1f}%, 90th percentile "
            f"{100 * np.quantile(fa, 0.9):.1f}%, largest {100 * fa.max():.1f}%; baselines at <= 10%: "
            f"{int((fa <= 0.10).sum())} of {len(fa)}")


def table(trials: list[dict], rules: list[Rule] = RULES) -> str:
    rates = rates_at(trials, rules)
    gated = [r for r in rules if r.metric in ("fd", "recall", "fd_pixels")]
    lines = ["| baseline | candidates | false alarms (strict) | rules not passed | "
             + " | ".join(f"percentile on {r.metric}" for r in gated) + " |",
             "|---:|---:|---:|---|" + "---:|" * len(gated)]
    for b, (s, m) in rates.items():
        mine = [t for t in trials if t["baseline"] == b]
        why: dict[str, int] = {}
        for t in mine:
            for metric in stops(t, rules):
                why[metric] = why.get(metric, 0) + 1
        pct = " | ".join(f"{100 * percentile(trials, b, r.metric, r.op == '>='):.0f}%" for r in gated)
        lines.append(f"| {b} | {m} | {100 * s / m:.1f}% ({s}/{m}) | "
                     + (", ".join(f"{k} {v}" for k, v in sorted(why.items())) or "-") + f" | {pct} |")
    return "\n".join(lines) + "\n\nDistribution over baselines: " + _summary(rates) + "."


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    baselines, candidates = (int(args[0]), int(args[1])) if len(args) == 2 else (10, 40)
    trials = json.loads(OUT.read_text()) if "--table" in argv else run(baselines, candidates)
    body = (__doc__.split("\n\n", 1)[1].rsplit("\n\nRun:", 1)[0] + "\n\n" + table(trials))
    write_section("False alarms by baseline (digits-default)", body)
    print(table(trials))


if __name__ == "__main__":
    main(sys.argv[1:])
