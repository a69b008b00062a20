"""`genbench power` validated on digits: predicted against measured gate stop rates.

Predicted: genbench.compare.power.plan on pilots taken from the benchmark pools of bench_gate (features
of digits-train as is, noised σ = 25, blurred one step, without one class, or noised σ = 15 ("slight
noise": fd_pixels rises by about 0.10 against a tolerance of 0.25, so its detection moves with N) against digits-test,
under digits-default's gate rules, subsets drawn with replacement as the measured trials draw them. Measured: gate_decision.trial, the CLI gate's own decision code (paired
bootstrap, B = 200, strict), on fresh draws of N rows from the same pools, at each N. The goal: predicted
within ±10 points of measured where both exist.
Run: `nice python -m tests.benchmarks.bench_power [TRIALS_NULL TRIALS_ALT] [--only=CONDITION]` (default 60
and 30); trials are kept in runs/bench-power/ and resumed; `--table` only rewrites the section from them.
"""
from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from genbench.compare.gate import FAIL, INCONCLUSIVE, default_rules
from genbench.compare.find_features import space_of
from genbench.compare.paired import Side
from genbench.compare.pilot import plain_rule
from genbench.compare.laws import Pilot
from genbench.compare.power import PlanOptions, plan
from genbench.io import atomic_write_json
from tests.benchmarks.gate_decision import DIRECTIONS, PROTO, trial
from tests.benchmarks.gate_pools import ROOT, pools
from tests.benchmarks.sections import write_section

SIZES = (250, 500, 1000)
DRAWS = 60  # pilot draws per subset size; the sd of d from D draws has a relative standard error of ~1/√(2D)
CONDITIONS = ("real-vs-real", "added noise", "mild blur", "1 class missing", "slight noise")
POOL = {"added noise": "noise", "mild blur": "blur", "slight noise": "noise-15"}
OUT = ROOT / "runs" / "bench-power"


def _space(arrays: dict, pixels: bool) -> dict:
    """One feature space's arrays: the pixels embedding alone, or the classifier's (embedding, class_probs)."""
    return {"embedding": arrays["pixels"]} if pixels else {k: v for k, v in arrays.items() if k != "pixels"}


def _pilots(feats: dict, labels: np.ndarray, ref: dict, cond: str) -> tuple[dict, dict, dict]:
    """({rule: Pilot}, {rule: context}, {rule: output}) of digits-default's rules, one pilot per feature
    space, every space's rows the same images (the arguments of genbench.compare.power.plan)."""
    pilots, contexts, outputs = {}, {}, {}
    for rule in default_rules(PROTO, DIRECTIONS):
        space = space_of(PROTO, rule.metric)
        pix = space.extractor == "pixels"
        real = _space(feats["real"], pix)
        cand = (Side(real, np.flatnonzero(labels != 3)) if cond == "1 class missing"
                else Side(_space(feats[POOL[cond]], pix)))
        pilots[rule] = Pilot(cand, Side(real), Side(real), Side(_space(ref, pix)))
        contexts[rule] = {"dataset": "digits-test", "extractor": space.extractor}
        outputs[rule] = plain_rule(rule, space).metric
    return pilots, contexts, outputs


def predicted(feats: dict, labels: np.ndarray, ref: dict) -> dict:
    """{condition: {N: predicted stop rate}} (real-vs-real: the plan's false-alarm rate)."""
    out = {}
    for cond in CONDITIONS[1:]:
        pilots, contexts, outputs = _pilots(feats, labels, ref, cond)
        p = plan(pilots, PROTO.config, PlanOptions(sizes=SIZES, draws=DRAWS, with_replacement=True), contexts,
                 PROTO.params, outputs)
        out[cond] = {r.n: r.detection for r in p.rows}
        out["real-vs-real"] = {r.n: r.false_alarm for r in p.rows}  # the same null pilot in every plan
        out.setdefault("plans", {})[cond] = p.to_json()
        for name, k in ((cond, 0), ("real-vs-real", 1)):  # what multiplying per-rule rates would predict
            out.setdefault("independent", {})[name] = {r.n: 1 - math.prod(1 - v[k] for v in r.per_rule.values())
                                                       for r in p.rows}
    return out


def measured(feats: dict, labels: np.ndarray, ref: dict, trials_null: int, trials_alt: int,
             conditions: tuple[str, ...] = CONDITIONS) -> list[dict]:
    """Trials of `conditions` up to the given counts, resumed from runs/bench-power/trials.json."""
    path = OUT / "trials.json"
    rows = json.loads(path.read_text()) if path.is_file() else []
    have = {(r["condition"], r["n"], r["trial"]) for r in rows}
    memo: dict = {}
    for i in range(max(trials_null, trials_alt)):
        for cond in conditions:
            for n in SIZES:
                if i < (trials_null if cond == "real-vs-real" else trials_alt) and (cond, n, i) not in have:
                    rows.append(trial(feats, labels, ref, cond, n, i, memo))
        atomic_write_json(path, rows)
        print(f"round {i + 1} done", flush=True)
    return rows


def _stopped(rows: list[dict], cond: str, n: int) -> tuple[int, int]:
    sel = [r for r in rows if r["condition"] == cond and r["n"] == n]
    return sum(r["status"] in (FAIL, INCONCLUSIVE) for r in sel), len(sel)


def table(pred: dict, rows: list[dict]) -> str:
    lines = ["| candidate | N | predicted | measured | difference (points) | measured 95% interval | "
             "predicted if rules were independent |", "|---|---:|---:|---:|---:|---|---:|"]
    for cond in CONDITIONS:
        for n in SIZES:
            k, m = _stopped(rows, cond, n)
            if not m:
                continue
            p, q = 100 * pred[cond][n], 100 * k / m
            half = 196 * math.sqrt(max(q / 100 * (1 - q / 100), 1 / m) / m)
            lines.append(f"| {cond} | {n:,} | {p:.0f}% | {q:.0f}% ({k}/{m}) | {p - q:+.0f} | "
                         f"{max(q - half, 0):.0f}–{min(q + half, 100):.0f}% | {100 * pred['independent'][cond][n]:.0f}% |")
    return "\n".join(lines)


def _minutes(args: list[str], t0: float) -> str:
    """Wall minutes of this run, or of the run that recorded the trials (--minutes=M with --table)."""
    given = next((a.split("=", 1)[1] for a in args if a.startswith("--minutes=")), None)
    return given or f"{(time.perf_counter() - t0) / 60:.1f}"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nums = [int(a) for a in args if a.isdigit()]
    tn, ta = (nums[0], nums[1]) if len(nums) >= 2 else (60, 30)
    t0 = time.perf_counter()
    feats, labels, ref = pools()
    pred_path = OUT / "predicted.json"
    if "--table" in args and pred_path.is_file():
        raw = json.loads(pred_path.read_text())
        pred = {k: {int(n): v for n, v in d.items()} for k, d in raw.items() if k in CONDITIONS}
        pred["independent"] = {c: {int(n): v for n, v in d.items()} for c, d in raw["independent"].items()}
    else:
        pred = predicted(feats, labels, ref)
        atomic_write_json(pred_path, pred)
    only = next((a.split("=", 1)[1] for a in args if a.startswith("--only=")), None)  # e.g. --only="slight noise"
    rows = json.loads((OUT / "trials.json").read_text()) if "--table" in args else measured(
        feats, labels, ref, tn, ta, (only,) if only else CONDITIONS)
    body = (__doc__.split("\n\n", 1)[1].rsplit("\nRun:", 1)[0] + "\n\n" + table(pred, rows) + "\n\n"
            f"Stop rate = exit 1 under the default (strict) gate: false alarms for real-vs-real, detection "
            f"otherwise. {_minutes(args, t0)} min for the last run on the shared 2-core CPU machine (one BLAS thread): "
            f"the prediction and the trials that run added; earlier trials are resumed from runs/bench-power/.")
    write_section("Sample-size planner: predicted vs measured (digits-default)", body)
    print(table(pred, rows))


if __name__ == "__main__":
    main()
