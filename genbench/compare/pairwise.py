"""All-pairs significance for leaderboard ranks: paired bootstrap tests of every pair, Holm-controlled.

A rank says which models are *significantly* better. For k models scored against one shared reference,
every pair (i, j) gets the paired bootstrap of d = m(i) − m(j) (genbench.compare.paired: each replicate
resamples the reference once and both sets once), a two-sided p-value from the bootstrap's standard
deviation, p = 2·(1 − Φ(|d| / sd)), and Holm's step-down procedure (Holm 1979, "A simple sequentially
rejective multiple test procedure") over all k(k−1)/2 p-values keeps the family-wise error, the chance
of declaring *any* pair different when none is, at or below α = 0.05.

Why Holm and not a simultaneous (max-|t|) bootstrap interval: Holm is valid under any dependence between
the tests (they share models and the reference, so they are correlated), needs only each pair's own
paired bootstrap (the call the release gate makes, so a board and a gate agree on what a difference is),
and is never less powerful than Bonferroni. A max-|t| interval would need every set resampled in one
joint replicate loop, and gains power only when the tests are strongly correlated.
Why a normal p-value: Holm's first threshold is α/m (0.05/28 = 0.0018 for 8 models), below the
resolution 2/B = 0.01 of a percentile p-value from B = 200 replicates; the bootstrap standard deviation
is well estimated by B = 200.

Ranks follow Chatbot Arena's "rank (UB)": a model's best possible rank is 1 + the number of models
significantly better than it, its worst possible rank k − the number significantly worse. Pure maths:
the caller supplies each pair's Difference (genbench.board.ranks finds the features).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Mapping, Sequence

from genbench.compare.paired import Difference

ALPHA = 0.05


@dataclass(frozen=True)
class PairTest:
    """d = m(a) − m(b) with its bootstrap sd, two-sided p-value and Holm decision."""

    a: str
    b: str
    diff: float
    std: float
    p: float
    significant: bool = False

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b, "diff": self.diff, "std": self.std, "p": self.p,
                "significant": self.significant}


@dataclass(frozen=True)
class RankInterval:
    """Best and worst possible rank (1 = first)."""

    best: int
    worst: int

    @property
    def label(self) -> str:
        return str(self.best) if self.best == self.worst else f"{self.best}\u2013{self.worst}"


def p_value(diff: float, std: float) -> float:
    """Two-sided normal p-value of d with standard deviation sd; an exact (sd = 0) nonzero d has p = 0."""
    if not math.isfinite(diff):
        return 1.0
    if std <= 0 or not math.isfinite(std):
        return 0.0 if diff != 0 else 1.0
    return math.erfc(abs(diff) / std / math.sqrt(2.0))


def holm(pvalues: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down rejections: sort p ascending, reject p_(i) <= α/(m − i) (i from 0) until one fails."""
    m = len(pvalues)
    reject = [False] * m
    for i, j in enumerate(sorted(range(m), key=lambda j: (pvalues[j], j))):
        if pvalues[j] > alpha / (m - i):
            break
        reject[j] = True
    return reject


def compare_all_pairs(models: Sequence[str], diff: Callable[[str, str], Difference], alpha: float = ALPHA) -> list[PairTest]:
    """Every unordered pair (a before b in `models`) tested, Holm-adjusted over all of them."""
    raw = []
    for a, b in combinations(models, 2):
        d = diff(a, b)
        raw.append(PairTest(a, b, d.diff, d.std, p_value(d.diff, d.std)))
    flags = holm([t.p for t in raw], alpha)
    return [PairTest(t.a, t.b, t.diff, t.std, t.p, f) for t, f in zip(raw, flags)]


def beats(tests: Sequence[PairTest], higher_is_better: bool) -> set[tuple[str, str]]:
    """(winner, loser) of every significant pair, by the metric's direction."""
    out = set()
    for t in tests:
        if t.significant:
            a_wins = (t.diff > 0) == higher_is_better
            out.add((t.a, t.b) if a_wins else (t.b, t.a))
    return out


def rank_intervals(models: Sequence[str], wins: set[tuple[str, str]]) -> dict[str, RankInterval]:
    """Rank interval per model: [1 + #significantly better, k − #significantly worse]."""
    k = len(models)
    better = {m: sum(1 for w, l in wins if l == m) for m in models}
    worse = {m: sum(1 for w, l in wins if w == m) for m in models}
    return {m: RankInterval(1 + better[m], k - worse[m]) for m in models}


def overlap_wins(intervals: Mapping[str, tuple[float, float] | None], values: Mapping[str, float],
                 higher_is_better: bool) -> set[tuple[str, str]]:
    """The fallback without features: a pair differs when the two 95% intervals do not overlap (no
    family-wise control); values without an interval differ when the values differ."""
    out = set()
    for a, b in combinations(list(values), 2):
        ia, ib = intervals.get(a), intervals.get(b)
        differ = values[a] != values[b] if not ia or not ib else (ia[1] < ib[0] or ib[1] < ia[0])
        if differ:
            a_wins = (values[a] > values[b]) == higher_is_better
            out.add((a, b) if a_wins else (b, a))
    return out
