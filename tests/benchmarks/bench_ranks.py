"""Leaderboard ranks on models of known order: power and false separations of the all-pairs rule.

Each trial is one board of 10 "models" at N = 1,000, every one N rows drawn with replacement from a pool
of digits-classifier features, against the protocol's reference (digits-test, 359 images):
digits-train as is, twice (real A, real B: identical quality), blurred 1, 2 and 3 steps (1 step twice:
blur1 A, blur1 B), noised with σ = 15 and 30 (of 255), and without 1 or 2 classes (drawn per trial).
Within a family (real → blur 1 → 2 → 3; real → noise 15 → 30; real → 1 → 2 classes missing) a stronger
degradation is truly worse. Ranks are genbench.board's rule: every pair's paired bootstrap
(genbench.compare.paired, B = 200) on fd, Holm over all 45 pairs (genbench.compare.pairwise).
Power: the share of truly ordered pairs that the board separates, in the right order. False separations:
the share of boards on which any identical-quality pair (real A/B, blur1 A/B) is separated (family-wise),
and the share of those pairs separated. Wrong order: truly ordered pairs separated the wrong way round.
Run: `nice python -m tests.benchmarks.bench_ranks [TRIALS]` (default 40); trials are kept in
runs/bench-ranks/ and resumed; `--table` only rewrites the section from them.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from genbench.compare.paired import Side, differences
from genbench.compare.pairwise import beats, compare_all_pairs
from genbench.compare.regressions import blur, noise
from genbench.data import load_dataset
from genbench.io import atomic_write_json
from genbench.protocols import PROTOCOLS
from tests.benchmarks.gate_pools import ROOT, features
from tests.benchmarks.sections import write_section

PROTO = PROTOCOLS.get("digits-default")
N, REPS = 1000, 200
OUT = ROOT / "runs" / "bench-ranks"
FAMILIES = (("real A", "blur1 A", "blur2", "blur3"), ("real A", "noise15", "noise30"),
            ("real A", "missing1", "missing2"), ("real B", "blur1 B", "blur2", "blur3"))
IDENTICAL = (("real A", "real B"), ("blur1 A", "blur1 B"))
MODELS = ("real A", "real B", "blur1 A", "blur1 B", "blur2", "blur3", "noise15", "noise30", "missing1", "missing2")


def pools() -> tuple[dict, np.ndarray, dict]:
    train = load_dataset("digits-train")
    x = train.data  # [1438, 3, 8, 8] uint8
    feats = {"real": features(x), "noise15": features(noise(x, 15.0)), "noise30": features(noise(x, 30.0))}
    feats.update({f"blur{k}": features(blur(x, k)) for k in (1, 2, 3)})
    return feats, np.asarray(train.labels), features(load_dataset("digits-test").data)


def _pool(model: str) -> str:
    name = model.split()[0]
    return "real" if name.startswith(("real", "missing")) else name


def draw(feats: dict, labels: np.ndarray, rng: np.random.Generator) -> dict[str, Side]:
    """One board: every model's N rows."""
    dropped = rng.choice(10, size=2, replace=False)
    sides = {}
    for m in MODELS:
        allowed = np.arange(len(labels))
        if m.startswith("missing"):
            allowed = allowed[~np.isin(labels, dropped[:int(m[-1])])]
        sides[m] = Side(feats[_pool(m)], allowed[rng.integers(0, len(allowed), N)])
    return sides


def board(feats: dict, labels: np.ndarray, ref: dict, i: int, memo: dict) -> dict:
    rng = np.random.default_rng([N, i, 0xB0A])
    sides = draw(feats, labels, rng)

    def diff(a: str, b: str):
        return differences(["fd"], sides[a], sides[b], Side(ref), PROTO.config, reps=REPS, seed=i, memo=memo,
                           params=PROTO.params)["fd"]

    tests = compare_all_pairs(list(MODELS), diff)
    return {"trial": i, "wins": sorted(beats(tests, higher_is_better=False)),
            "pairs": [t.to_json() for t in tests]}


def ordered_pairs() -> set[tuple[str, str]]:
    """(better, worse) pairs of known order."""
    out = set()
    for fam in FAMILIES:
        out |= {(fam[i], fam[j]) for i in range(len(fam)) for j in range(i + 1, len(fam))}
    return out


def summary(rows: list[dict]) -> dict:
    truth = ordered_pairs()
    right = sum((w, l) in truth for r in rows for w, l in map(tuple, r["wins"]))
    wrong = sum((l, w) in truth for r in rows for w, l in map(tuple, r["wins"]))
    same = [any({tuple(x) for x in r["wins"]} & {p, p[::-1]} for p in IDENTICAL) for r in rows]
    pairs_sep = sum(bool({tuple(x) for x in r["wins"]} & {p, p[::-1]}) for r in rows for p in IDENTICAL)
    return {"boards": len(rows), "ordered": len(truth) * len(rows), "right": right, "wrong": wrong,
            "fw_false": sum(same), "pairs_false": pairs_sep, "identical": len(IDENTICAL) * len(rows)}


def per_pair(rows: list[dict]) -> list[str]:
    out = []
    for fam in FAMILIES[:3]:
        for a, b in zip(fam, fam[1:]):
            k = sum((a, b) in {tuple(w) for w in r["wins"]} for r in rows)
            out.append(f"| {a} vs {b} | {100 * k / len(rows):.0f}% ({k}/{len(rows)}) |")
    return out


def table(rows: list[dict]) -> str:
    s = summary(rows)
    pct = lambda k, m: f"{100 * k / m:.1f}% ({k}/{m})"  # noqa: E731
    return "\n".join([
        "| quantity | rate |", "|---|---:|",
        f"| power: truly ordered pairs separated in the right order | {pct(s['right'], s['ordered'])} |",
        f"| wrong order: truly ordered pairs separated the wrong way | {pct(s['wrong'], s['ordered'])} |",
        f"| family-wise false separations: boards separating an identical pair | {pct(s['fw_false'], s['boards'])} |",
        f"| identical pairs separated | {pct(s['pairs_false'], s['identical'])} |",
        "", "Neighbouring degradations (the hardest ordered pairs), share of boards separating them:", "",
        "| pair | separated |", "|---|---:|"] + per_pair(rows))


def _minutes(args: list[str], t0: float) -> str:
    """Wall minutes of this run, or of the run that recorded the trials (--minutes=M with --table)."""
    given = next((a.split("=", 1)[1] for a in args if a.startswith("--minutes=")), None)
    return given or f"{(time.perf_counter() - t0) / 60:.1f}"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    trials = next((int(a) for a in args if a.isdigit()), 40)
    path, t0 = OUT / "trials.json", time.perf_counter()
    rows = json.loads(path.read_text()) if path.is_file() else []
    if "--table" not in args:
        feats, labels, ref = pools()
        memo: dict = {}
        for i in range(len(rows), trials):
            rows.append(board(feats, labels, ref, i, memo))
            atomic_write_json(path, rows)
            print(f"board {i + 1} done", flush=True)
    body = (__doc__.split("\n\n", 1)[1].rsplit("\nRun:", 1)[0] + "\n\n" + table(rows) + "\n\n"
            + f"{_minutes(args, t0)} min on the shared 2-core CPU machine (one BLAS thread, B = {REPS}).")
    write_section("Leaderboard ranks: power and false separations (digits-default, N = 1,000)", body)
    print(table(rows))


if __name__ == "__main__":
    main()
