"""The gate's decision code on index draws of pooled features, without files (bench_power's measured side).

One trial draws a baseline of N rows from digits-train's features and a candidate of N rows from a
condition's pool, and runs genbench.compare.paired.differences and genbench.compare.gate.paired_outcomes:
the decision `genbench gate` makes once it holds both sides' feature rows. The end-to-end path through
the files users commit is measured by bench_gate.py; the rows are the same (a features file round trip is
exact, tests/unit/test_gate_files.py), this path only skips the files and the process.
"""
from __future__ import annotations

import numpy as np

from genbench.compare.gate import GateReport, default_rules, paired_outcomes
from genbench.compare.paired import Side, differences
from genbench.compare.regressions import partial_rows
from genbench.protocols import PROTOCOLS

PROTO = PROTOCOLS.get("digits-default")
DIRECTIONS = {"fd": False, "recall": True, "classes_covered": True, "fd_pixels": False, "class_share": True}
REPS = 200
KEPT = 0.3  # partial mode dropping: one class kept at this fraction of its share, the others filling up
PARTIAL = tuple(f"class {k} at 30%" for k in range(10))
CONDITIONS = ("real-vs-real", "1 class missing", "2 classes missing", "mild blur", "added noise",
              "DDPM at 1/4 steps") + PARTIAL
PLANNER_ONLY = ("slight noise",)  # bench_power's regression near the tolerance (detection between 0 and 1)
POOL = {"mild blur": "blur", "added noise": "noise", "DDPM at 1/4 steps": "ddpm-quarter", "slight noise": "noise-15"}


def candidate_rows(cond: str, rng: np.random.Generator, labels: np.ndarray, n: int, pool_size: int) -> np.ndarray:
    """Row indices of one candidate draw from its pool (classes removed for "k classes missing")."""
    allowed = np.arange(pool_size)
    if cond in PARTIAL:
        return partial_rows(rng, labels, n, int(cond.split()[1]), KEPT)
    if cond.endswith("missing"):
        missing = rng.choice(10, size=int(cond[0]), replace=False)
        allowed = allowed[~np.isin(labels, missing)]
    return allowed[rng.integers(0, len(allowed), n)]


def draw(cond: str, n: int, i: int, labels: np.ndarray, pool_size: int) -> tuple[np.ndarray, str, np.ndarray]:
    """(baseline rows of digits-train, candidate pool name, candidate rows) of trial i: seeded by (N, cond, i)."""
    rng = np.random.default_rng([n, (CONDITIONS + PLANNER_ONLY).index(cond), i])
    base = rng.integers(0, len(labels), n)
    return base, POOL.get(cond, "real"), candidate_rows(cond, rng, labels, n, pool_size)


def trial(feats: dict, labels: np.ndarray, ref: dict, cond: str, n: int, i: int, memo: dict,
          paired: bool = True) -> dict:
    base, pool, rows = draw(cond, n, i, labels, len(feats[POOL.get(cond, "real")]["embedding"]))
    return {"condition": cond, "n": n, "trial": i, **decide_rows(feats, ref, pool, rows, base, i, memo, paired)}


def decide_rows(feats: dict, ref: dict, pool: str, rows: np.ndarray, base: np.ndarray, seed: int, memo: dict,
                paired: bool = True) -> dict:
    """The gate's decision on candidate rows of `pool` against baseline rows of the real pool (bootstrap seed)."""
    rules = default_rules(PROTO, DIRECTIONS)
    cls = [r.metric for r in rules if not r.metric.endswith("_pixels")]
    diffs = differences(cls, Side(_only(feats[pool], "pixels"), rows), Side(_only(feats["real"], "pixels"), base),
                        Side(_only(ref, "pixels")), PROTO.config, reps=REPS, seed=seed, paired=paired,
                        context={"dataset": "digits-test"}, memo=memo, params=PROTO.params)
    pix = differences(["fd"], Side({"embedding": feats[pool]["pixels"]}, rows),
                      Side({"embedding": feats["real"]["pixels"]}, base), Side({"embedding": ref["pixels"]}),
                      PROTO.config, reps=REPS, seed=seed, paired=paired, memo=memo, params=PROTO.params)
    diffs["fd_pixels"] = pix["fd"]
    outcomes = paired_outcomes(rules, diffs)
    report = GateReport(outcomes, pool, "real", f"digits-default@{PROTO.version}")
    return {"status": report.status, "interval": "paired" if paired else "independent",
            "rules": {o.rule.metric: o.status for o in outcomes},
            "diff": {o.rule.metric: [o.diff, o.lo, o.hi] for o in outcomes}}


def _only(arrays: dict, drop: str) -> dict:
    return {k: v for k, v in arrays.items() if k != drop}
