"""Variance laws of a gate rule's paired difference, fitted on pilot features (for genbench.compare.power).

Resampled metrics (fd, recall, ...). Two spreads matter: how far d = m(candidate) − m(baseline) moves
between fresh sample sets of size N (sd, where d lands), and the standard deviation s the gate's paired
bootstrap (genbench.compare.paired) reports at N (the interval's half-width z·s). Both are measured on
random subsets of n pilot rows (sd from `draws` fresh subsets per n; s² the mean bootstrap variance of
`subsets` subsets per n). Fresh model samples are distinct, so by default subsets are drawn without
replacement (an eighth, a quarter and a half of the pilot; see `_pair` for the finite-population
factor); a benchmark that draws its sets with replacement from a finite pool is mirrored with
`replace=True` (a quarter, a half and all of the pilot). Both spreads follow the scaling law

    var(N) = a / N + c          (a: both sample sets' noise; c: what the fixed reference leaves in d)

fitted by non-negative least squares. The reference keeps its size, so its share c does not shrink with
N; a paired difference cancels most of it, which the fit measures instead of assuming. The mean
difference δ is the mean d over the largest pilot subsets (the regression's size, taken as independent of
N). δ is itself one draw: its standard error is the spread of d at the pilot's size P, se = √(a/P + c)
(genbench.compare.power turns it into an interval on the predicted rate). With z = 1.96 and d ~ Normal(δ, sd²), a rule `d <= TOL` fails to pass with probability

    P(not pass) = 1 − Φ((TOL − δ − z·s(N)) / sd(N))          (`>=` mirrors it)

Exact metrics (significance-tested counts such as classes_covered, not resampled) and direct comparisons
(class_share: an exact interval from the two sets' class counts): their decision is simulated, drawing
`draws` subsets of N rows (with replacement) of each pilot and deciding the rule as the gate does
(genbench.compare.gate.status_of on the difference's interval; zero width for counts). The same laws give the chance that a leaderboard pair is separated (`separation_probability`).
Pure maths on feature arrays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from genbench.compare.gate import PASS, Z95, Rule, status_of
from genbench.compare.paired import Side, differences, direct_difference, metric_for, point_values
from genbench.errors import ConfigError
from genbench.metrics.base import MetricConfig


@dataclass(frozen=True)
class VarianceLaw:
    """s²(N) = a / N + c of one rule's paired difference, with the pilot's mean difference δ and its standard
    error `se` (how far δ may lie from the true difference: the spread of d at the pilot's size; 0 when δ
    is known, as the null's δ = 0)."""

    a: float
    c: float
    delta: float
    se: float = 0.0

    def std(self, n: int) -> float:
        return math.sqrt(max(self.a / n + self.c, 0.0))


@dataclass(frozen=True)
class RuleLaw:
    """Two laws of one rule: `draws`, the spread of d over fresh sets of N (what decides where d lands), and
    `interval`, the gate's bootstrap standard deviation at N (what sets the interval's half-width z·s)."""

    draws: VarianceLaw
    interval: VarianceLaw

    def stop(self, rule: "Rule", n: int, z: float = Z95) -> float:
        return stop_probability(rule, self.draws.delta, self.draws.std(n), z * self.interval.std(n))


def fit_law(sizes: Sequence[int], variances: Sequence[float], delta: float, pilot: int | None = None) -> VarianceLaw:
    """Non-negative least squares of variances ≈ a/n + c (c set to 0 when the free fit makes it negative)."""
    x = np.column_stack([1.0 / np.asarray(sizes, dtype=np.float64), np.ones(len(sizes))])  # [K, 2]
    y = np.asarray(variances, dtype=np.float64)  # [K]
    a, c = np.linalg.lstsq(x, y, rcond=None)[0]
    if c < 0 or a < 0:
        a, c = (float(np.dot(x[:, 0], y) / np.dot(x[:, 0], x[:, 0])), 0.0) if c < 0 else (0.0, float(y.mean()))
    a, c = max(float(a), 0.0), max(float(c), 0.0)
    se = math.sqrt(a / pilot + c) if pilot else 0.0
    return VarianceLaw(a, c, float(delta), se)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def margin(rule: Rule, delta: float) -> float:
    """How far the mean difference δ lies inside the rule's tolerance (negative: outside)."""
    return (rule.tolerance - delta) if rule.op == "<=" else (delta - rule.tolerance)


def stop_probability(rule: Rule, delta: float, std: float, half: float) -> float:
    """P(the rule does not pass) under d ~ Normal(δ, sd²) with the gate's interval d ± half (strict gate:
    the interval must lie within the tolerance)."""
    room = margin(rule, delta)
    if std <= 0:
        return 0.0 if room - half >= 0 else 1.0
    return 1.0 - _phi((room - half) / std)


def _same(a: Side, b: Side) -> bool:
    return a.arrays is b.arrays and np.array_equal(a.rows(), b.rows())


def _pair(rng: np.random.Generator, a: Side, b: Side, n: int, replace: bool) -> tuple[Side, Side, float]:
    """Subsets of n rows of each pilot, and the factor that turns their spread into that of fresh sets.

    With replacement (replace=True) the subsets are what a benchmark drawing from the pilot gets: factor 1.
    Without (fresh model samples are distinct): the same pilot on both sides gives two disjoint subsets,
    whose difference has the variance of two independent sets (factor 1); two different pilots are each
    subsampled, and the finite-population factor 1 − n/P is divided out (first order)."""
    ra, rb = a.rows(), b.rows()
    if replace:
        return Side(a.arrays, ra[rng.integers(0, len(ra), n)]), Side(b.arrays, rb[rng.integers(0, len(rb), n)]), 1.0
    if _same(a, b):
        perm = rng.permutation(ra)
        return Side(a.arrays, perm[:n]), Side(b.arrays, perm[n:2 * n]), 1.0
    fpc = 1.0 - n / min(len(ra), len(rb))
    return (Side(a.arrays, rng.choice(ra, n, replace=False)), Side(b.arrays, rng.choice(rb, n, replace=False)),
            1.0 / max(fpc, 1e-9))


def bootstrap_variances(output: str, a: Side, b: Side, ref: Side, config: MetricConfig, sizes: Sequence[int],
                        reps: int, seed: int, context: Mapping[str, object], params: Mapping[str, object],
                        replace: bool = False, subsets: int = 4) -> list[float]:
    """The gate's bootstrap variance of d at each n, averaged over `subsets` random subsets of n rows of each
    pilot (one subset's bootstrap variance is itself noisy)."""
    out, memo = [], {}
    for k, n in enumerate(sizes):
        rng = np.random.default_rng([seed, n, k])
        var = []
        for j in range(subsets):
            sa, sb, _ = _pair(rng, a, b, n, replace)
            d = differences([output], sa, sb, ref, config, reps=reps, seed=seed + 101 * k + j, context=context,
                            memo=memo, params=params)[output]
            var.append(d.std ** 2)
        out.append(float(np.mean(var)))
    return out


def draw_differences(output: str, a: Side, b: Side, ref: Side, config: MetricConfig, sizes: Sequence[int],
                     draws: int, seed: int, context: Mapping[str, object], params: Mapping[str, object],
                     replace: bool = False) -> tuple[list[np.ndarray], list[float]]:
    """Point differences d over `draws` fresh subsets of n rows of each pilot ([draws] per n), and each n's
    finite-population factor. The subsets' row positions depend only on (seed, n) and the pilots' lengths, so
    the rules of one plan see the same rows of their (row-aligned) pilots: their draws are joint."""
    metric = metric_for(output)(params.get(metric_for(output).name))
    out, factors = [], []
    for n in sizes:
        rng = np.random.default_rng([seed, n, 0xD4A])
        d, factor = [], 1.0
        for _ in range(draws):
            sa, sb, factor = _pair(rng, a, b, n, replace)
            d.append(point_values(metric, sa.take(), ref.take(), config, context)[output]
                     - point_values(metric, sb.take(), ref.take(), config, context)[output])
        out.append(np.asarray(d, dtype=np.float64))
        factors.append(factor)
    return out, factors


def draw_moments(output: str, a: Side, b: Side, ref: Side, config: MetricConfig, sizes: Sequence[int],
                 draws: int, seed: int, context: Mapping[str, object], params: Mapping[str, object],
                 replace: bool = False) -> list[tuple[float, float]]:
    """(mean, variance) of the point difference d over `draws` fresh subsets of n rows of each pilot."""
    d, factors = draw_differences(output, a, b, ref, config, sizes, draws, seed, context, params, replace)
    return _moments(d, factors)


def _moments(d: Sequence[np.ndarray], factors: Sequence[float]) -> list[tuple[float, float]]:
    return [(float(np.mean(x)), float(np.var(x, ddof=1)) * f) for x, f in zip(d, factors)]


def pilot_sizes(n_pilot: int, replace: bool = False, floor: int = 0) -> tuple[int, ...]:
    """Subset sizes the laws are fitted on: a quarter, a half and all of the pilot with replacement; an
    eighth, a quarter and a half without (two disjoint subsets of one pilot must fit in it); none below
    `floor` (the widest FD space's dimension: FD on fewer rows than features is singular and strongly
    biased), which must leave two sizes a factor 2 apart, so the pilot needs 2·floor rows (4·floor without
    replacement)."""
    fracs = (4, 2, 1) if replace else (8, 4, 2)
    if n_pilot < 80:
        raise ConfigError(f"the pilot has {n_pilot} rows; the planner needs at least 80")
    least = min_pilot(floor, replace)
    if n_pilot < least:
        raise ConfigError(f"--baseline/--candidate: the pilot has {n_pilot} rows; an FD rule's feature space has "
                          f"{floor} features, so the planner needs a pilot of at least {least} rows (subsets of at "
                          f"least {floor} rows, or FD is singular and strongly biased)")
    return tuple(sorted({max(n_pilot // f, floor) for f in fracs}))


def min_pilot(floor: int, replace: bool = False) -> int:
    """The smallest pilot whose fitting subsets all hold at least `floor` rows and span a factor 2."""
    return max(80, (2 if replace else 4) * floor)


@dataclass(frozen=True)
class Pilot:
    """Pilot features: candidate, baseline and a second baseline draw (the null), and the reference."""

    candidate: Side
    baseline: Side
    null: Side
    reference: Side


def fit_laws(rule: Rule, pilot: Pilot, config: MetricConfig, reps: int, seed: int, draws: int,
             context: Mapping[str, object], params: Mapping[str, object],
             replace: bool = False, subsets: int = 4, floor: int = 0) -> dict[str, RuleLaw]:
    """The rule's laws for the candidate (detection) and for a second baseline draw (false alarm)."""
    return fit_rule(rule, pilot, config, reps, seed, draws, context, params, replace, subsets, floor)[0]


CONDITIONS = ("candidate", "null")  # detection, false alarm


def fit_rule(rule: Rule, pilot: Pilot, config: MetricConfig, reps: int, seed: int, draws: int,
             context: Mapping[str, object], params: Mapping[str, object], replace: bool = False,
             subsets: int = 4, floor: int = 0) -> tuple[dict[str, RuleLaw], dict[str, list[np.ndarray]]]:
    """({condition: RuleLaw}, {condition: the draws' differences, [draws] per subset size}). The candidate's
    draws law carries δ's standard error at the pilot's size."""
    size = min(len(pilot.candidate.rows()), len(pilot.baseline.rows()))
    sizes = pilot_sizes(size, replace, floor)
    laws, raw = {}, {}
    for name, cand in zip(CONDITIONS, (pilot.candidate, pilot.null)):
        args = (rule.metric, cand, pilot.baseline, pilot.reference, config, sizes)
        boot = bootstrap_variances(*args, reps, seed, context, params, replace, subsets)
        raw[name], factors = draw_differences(*args, draws, seed, context, params, replace)
        moments = _moments(raw[name], factors)
        delta = 0.0 if name == "null" else moments[-1][0]
        laws[name] = RuleLaw(fit_law(sizes, [v for _, v in moments], delta, None if name == "null" else size),
                             fit_law(sizes, boot, delta))
    return laws, raw


def exact_stop_rate(rule: Rule, cand: Side, base: Side, ref: Side, n: int, draws: int, seed: int,
                    config: MetricConfig, context: Mapping[str, object], params: Mapping[str, object],
                    mix: float = 1.0) -> float:
    """Share of `draws` subsets of n rows (with replacement) on which an exact rule does not pass, decided as
    the gate decides it (status_of on the difference's interval: zero width for a count, the exact interval
    of a direct comparison such as class_share). `mix` < 1: each candidate row comes from the candidate pilot
    with that probability, else from the baseline's (the effect scaled towards 0)."""
    metric = metric_for(rule.metric)(params.get(metric_for(rule.metric).name))
    rng = np.random.default_rng([seed, n, 0xE1])
    stops = 0
    for _ in range(draws):
        ra, rb = (s.rows()[rng.integers(0, len(s.rows()), n)] for s in (cand, base))
        a = cand.take(ra) if mix >= 1.0 else _mixed(rng, cand, base, ra, mix)
        _, lo, hi = exact_interval(rule.metric, metric, a, base.take(rb), ref.take(), config, context)
        stops += int(status_of(rule, lo, hi) != PASS)
    return stops / draws


def _mixed(rng: np.random.Generator, cand: Side, base: Side, ra: np.ndarray, mix: float) -> dict[str, np.ndarray]:
    """The candidate draw `ra` with each row replaced, with probability 1 − mix, by a fresh baseline row."""
    k = int(rng.binomial(len(ra), mix))
    rb = base.rows()[rng.integers(0, len(base.rows()), len(ra) - k)]
    a, b = cand.take(ra[:k]), base.take(rb)
    return {key: np.concatenate([a[key], b[key]]) for key in a}


def exact_interval(output: str, metric: object, a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                   ref: Mapping[str, np.ndarray], config: MetricConfig,
                   context: Mapping[str, object]) -> tuple[float, float, float]:
    """(difference, lo, hi) of an exact rule between sets a and b, as the gate computes it."""
    if output in type(metric).direct_comparisons:
        d = direct_difference(metric, output, a, b)
        return d.diff, d.lo, d.hi
    d = point_values(metric, a, ref, config, context)[output] - point_values(metric, b, ref, config, context)[output]
    return d, d, d


def is_exact(rule: Rule) -> bool:
    """Decided by simulation: not resampled (counts), or compared directly with an exact interval."""
    cls = metric_for(rule.metric)
    return not cls.bootstrap_sets or rule.metric in cls.direct_comparisons


def separation_probability(gap: float, law: RuleLaw, n: int, z: float) -> float:
    """P(a pair whose true difference is `gap` is declared different at N): |d| > z·s(N), d ~ Normal(gap, sd²).
    For leaderboard ranks z is Holm's critical value for the pair's place (e.g. 3.13 for α/15)."""
    sd, half = law.draws.std(n), z * law.interval.std(n)
    if sd <= 0:
        return float(abs(gap) > half)
    return (1.0 - _phi((half - gap) / sd)) + _phi((-half - gap) / sd)


def n_to_separate(gap: float, law: RuleLaw, z: float, power: float = 0.8, largest: int = 10 ** 7) -> int | None:
    """Smallest N (on a 1-2-5 grid from 100) at which the pair is separated with probability >= `power`."""
    n = 100
    while n <= largest:
        for step in (1, 2, 5):
            if separation_probability(gap, law, n * step, z) >= power:
                return n * step
        n *= 10
    return None
