"""`genbench power` with one pilot pair: does the stated interval hold the measured stop rate?

A user has one pilot of the baseline and one of the candidate, each a draw; the candidate's estimated
effect δ̂ is the true difference plus noise. digits-train (1,438 images) is split once into two disjoint
halves A and B, so that a baseline and a candidate never share an image (as two fresh sample sets do not;
draws from one pool of 1,438 would share half their images and understate every spread). Pairs of pilots
of P = 1,000 rows (drawn with replacement: the baseline's from A, the candidate's from B) of the same
distribution (digits-train: A and B differ only by their own finite draw, which the strict gate still sees
at N = 1,000 now and then, mostly on recall) and of a shifted one (B noised σ = 15, "slight noise":
fd_pixels rises by about 0.10 against a tolerance of 0.25) are planned under digits-default's rules at N = 1,000 with the
CLI's defaults except the cost (20 draws, 50 bootstrap replicates, 2 subsets per size). Measured:
the gate's own decision code (genbench.compare.paired.differences and gate.paired_outcomes, as
gate_decision.trial; paired bootstrap, B = 200, strict) on fresh draws of N rows, the baseline's from A,
the candidate's from B. The goal: the detection interval (genbench.compare.effects) holds the measured
rate for >= 90% of the pairs of each kind. A partial-class plan (one class kept at 30% of its share, `--kind partial-class`) checks class_share's
simulated decision.
Run: `nice python -m tests.benchmarks.bench_power_pilots [PAIRS TRIALS]` (default 20 and 40); plans and trials
are kept in runs/bench-power-pilots/ and resumed; `--plans` or `--trials` runs one half (two processes),
`--table [--minutes=M]` only rewrites the section from them.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from genbench.compare.gate import FAIL, INCONCLUSIVE, PASS, default_rules, paired_outcomes
from genbench.compare.paired import Side, differences
from genbench.compare.power import PlanOptions, plan
from genbench.compare.regressions import partial_kept_rows
from genbench.io import atomic_write_json
from tests.benchmarks import bench_power
from tests.benchmarks.gate_decision import DIRECTIONS, PROTO, REPS as GATE_REPS
from tests.benchmarks.gate_pools import ROOT, pools
from tests.benchmarks.sections import write_section

N, PILOT, DRAWS, REPS, SUBSETS = 1000, 1000, 20, 50, 2
CONDITIONS = {"same distribution": "real-vs-real", "shifted (slight noise)": "slight noise"}
OUT = ROOT / "runs" / "bench-power-pilots"
OPTS = PlanOptions(sizes=(N,), draws=DRAWS, reps=REPS, subsets=SUBSETS)


def halves(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of digits-train's halves A (baselines) and B (candidates), fixed once."""
    perm = np.random.default_rng(0x4A1F).permutation(size)
    return perm[: size // 2], perm[size // 2:]


def _draw(feats: dict, cond: str, i: int, n: int, salt: int) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """(baseline pool, candidate pool, baseline rows from A, candidate rows from B), n each, seeded by i."""
    real, cand = feats["real"], feats[bench_power.POOL.get(CONDITIONS[cond], "real")]
    a, b = halves(len(real["embedding"]))
    rng = np.random.default_rng([salt, list(CONDITIONS).index(cond), i])
    return real, cand, a[rng.integers(0, len(a), n)], b[rng.integers(0, len(b), n)]


def _pilot_pair(feats: dict, cond: str, i: int) -> tuple[dict, dict]:
    """(baseline pilot arrays, candidate pilot arrays): PILOT rows each, drawn with replacement, seeded by i."""
    real, cand, rb, rc = _draw(feats, cond, i, PILOT, 0x9170)
    return {k: v[rb] for k, v in real.items()}, {k: v[rc] for k, v in cand.items()}


def _only(arrays: dict, drop: str) -> dict:
    return {k: v for k, v in arrays.items() if k != drop}


def decide(feats: dict, ref: dict, cond: str, i: int, memo: dict) -> dict:
    """One measured trial: the strict gate's decision on fresh draws of N rows (baseline A, candidate B)."""
    real, cand, rb, rc = _draw(feats, cond, i, N, 0x7E57)
    rules = default_rules(PROTO, DIRECTIONS)
    cls = [r.metric for r in rules if not r.metric.endswith("_pixels")]
    diffs = differences(cls, Side(_only(cand, "pixels"), rc), Side(_only(real, "pixels"), rb),
                        Side(_only(ref, "pixels")), PROTO.config, reps=GATE_REPS, seed=i,
                        context={"dataset": "digits-test"}, memo=memo, params=PROTO.params)
    diffs["fd_pixels"] = differences(["fd"], Side({"embedding": cand["pixels"]}, rc),
                                     Side({"embedding": real["pixels"]}, rb), Side({"embedding": ref["pixels"]}),
                                     PROTO.config, reps=GATE_REPS, seed=i, memo=memo, params=PROTO.params)["fd"]
    outcomes = paired_outcomes(rules, diffs)
    status = FAIL if any(o.status == FAIL for o in outcomes) else (
        INCONCLUSIVE if any(o.status != PASS for o in outcomes) else PASS)
    return {"condition": cond, "trial": i, "status": status, "rules": {o.rule.metric: o.status for o in outcomes}}


def planned(feats: dict, ref: dict, base: dict, cand: dict | None, kept: np.ndarray | None = None) -> dict:
    """The plan's row at N and effects for one pilot pair (cand None: `kept` rows of the baseline)."""
    pools_ = {"real": base, "cand": cand if cand is not None else base}
    pilots, contexts, outputs = bench_power._pilots(pools_ | {"noise-15": pools_["cand"]}, np.zeros(0), ref,
                                                    "slight noise")
    if kept is not None:
        pilots = {r: type(p)(Side(p.baseline.arrays, kept), p.baseline, p.null, p.reference) for r, p in pilots.items()}
    p = plan(pilots, PROTO.config, OPTS, contexts, PROTO.params, outputs)
    return {"row": p.rows[0].to_json(), "effects": p.effects, "distinguishable": p.effect_distinguishable}


def plans(feats: dict, ref: dict, pairs: int) -> dict:
    path = OUT / "plans.json"
    done = json.loads(path.read_text()) if path.is_file() else {}
    for i in range(pairs):
        for cond in CONDITIONS:
            key = f"{cond}/{i}"
            if key not in done:
                done[key] = planned(feats, ref, *_pilot_pair(feats, cond, i))
                atomic_write_json(path, done)
                print(key, done[key]["row"]["detection_interval"], flush=True)
    return done


def trials(feats: dict, labels: np.ndarray, ref: dict, count: int) -> list[dict]:
    path = OUT / "trials.json"
    rows = json.loads(path.read_text()) if path.is_file() else []
    have = {(r["condition"], r["trial"]) for r in rows}
    memo: dict = {}
    for i in range(count):
        for cond in CONDITIONS:
            if (cond, i) not in have:
                rows.append(decide(feats, ref, cond, i, memo))
        atomic_write_json(path, rows)
        print(f"trials round {i + 1}", flush=True)
    return rows


def partial(feats: dict, labels: np.ndarray, ref: dict) -> dict:
    """A partial-class plan (class drawn with seed 0 kept at 30%) on a PILOT-row baseline pilot."""
    path = OUT / "partial.json"
    if path.is_file():
        return json.loads(path.read_text())
    base, _ = _pilot_pair(feats, "same distribution", 0)
    kept = partial_kept_rows(base["class_probs"].argmax(1), 10, 1, 0.3, 0)
    out = planned(feats, ref, base, None, kept)
    atomic_write_json(path, out)
    return out


def table(done: dict, rows: list[dict], pairs: int) -> str:
    lines = ["| pilot pairs | measured stop rate at N = 1,000 | intervals holding it | mean stated interval | "
             "median width | mean detection at δ̂ | mean expected | mean false-alarm column | "
             "pairs whose effect is distinguishable from 0 |", "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for cond in CONDITIONS:
        sel = [r for r in rows if r["condition"] == cond]
        k = sum(r["status"] in (FAIL, INCONCLUSIVE) for r in sel)
        rate = k / max(len(sel), 1)
        ps = [done[f"{cond}/{i}"] for i in range(pairs) if f"{cond}/{i}" in done]
        ivs = [p["row"]["detection_interval"] for p in ps]
        held = sum(lo <= rate <= hi for lo, hi in ivs)
        lines.append(f"| {cond} ({len(ps)}) | {100 * rate:.1f}% ({k}/{len(sel)}) | {held}/{len(ps)} | "
                     f"{100 * np.mean([a for a, _ in ivs]):.0f}–{100 * np.mean([b for _, b in ivs]):.0f}% | "
                     f"{100 * np.median([b - a for a, b in ivs]):.0f} points | "
                     f"{100 * np.mean([p['row']['detection'] for p in ps]):.0f}% | "
                     f"{100 * np.mean([p['row']['detection_expected'] for p in ps]):.0f}% | "
                     f"{100 * np.mean([p['row']['false_alarm'] for p in ps]):.0f}% | "
                     f"{sum(p['distinguishable'] for p in ps)}/{len(ps)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nums = [int(a) for a in args if a.isdigit()]
    pairs, count = (nums[0], nums[1]) if len(nums) >= 2 else (20, 40)
    t0 = time.perf_counter()
    feats, labels, ref = pools()
    OUT.mkdir(parents=True, exist_ok=True)
    if "--trials" in args or "--plans" in args:  # one half of the work (two processes on two cores)
        trials(feats, labels, ref, count) if "--trials" in args else plans(feats, ref, pairs)
        print(f"{(time.perf_counter() - t0) / 60:.1f} min", flush=True)
        return
    done = json.loads((OUT / "plans.json").read_text()) if "--table" in args else plans(feats, ref, pairs)
    rows = json.loads((OUT / "trials.json").read_text()) if "--table" in args else trials(feats, labels, ref, count)
    part = partial(feats, labels, ref)
    cs = {k: v for k, v in part["row"]["per_rule"].items() if k.startswith("class_share")}
    body = (__doc__.split("\n\n", 1)[1].rsplit("\nRun:", 1)[0] + "\n\n" + table(done, rows, pairs) + "\n\n"
            f"Partial class (one class at 30% of its share, pilot of {PILOT:,}): predicted detection at N = 1,000 "
            f"{100 * part['row']['detection']:.0f}%, class_share (detection, false alarm) "
            f"{', '.join(f'{100 * d:.0f}% / {100 * f:.0f}%' for d, f in cs.values())}. "
            f"{bench_power._minutes(args, t0)} min for the last run on the shared 2-core CPU machine (one BLAS thread; "
            f"plans and trials resumed from runs/bench-power-pilots/).")
    write_section("Sample-size planner with one pilot pair: intervals vs measured (digits-default)", body)
    print(table(done, rows, pairs))


if __name__ == "__main__":
    main()
