"""Sample-size planning for the release gate: detection and false-alarm rates against N.

Given pilot features of a baseline and a candidate (a regression, or a second draw of the baseline) and
the reference, the planner predicts how often the gate (genbench.compare.gate, strict: an inconclusive
rule fails) stops the candidate at each N.

Resampled metrics (fd, recall, ...). The paired bootstrap (genbench.compare.paired) gives the standard
deviation s of d = m(candidate) − m(baseline) on subsets of n pilot rows for several n. The scaling law

    s²(N) = a / N + c          (a: both sample sets' noise; c: what the fixed reference leaves in d)

is fitted to those variances by non-negative least squares. The reference keeps its size, so its share
c does not shrink with N; a paired difference cancels most of it, which the fit measures instead of
assuming. The mean difference δ is the pilot's point difference (the regression's size, taken as
independent of N; FD's 1/N bias largely cancels between two sets of the same N). The gate's 95% interval
is d ± z·s(N) with z = 1.96, and under d ~ Normal(δ, s²) a rule `d <= TOL` fails to pass with probability

    P(not pass) = 1 − Φ((TOL − δ) / s − z)          (`>=` mirrors it)

Exact metrics (significance-tested counts such as classes_covered, not resampled): their decision is
simulated, drawing `draws` subsets of N rows (with replacement) of each pilot and computing the rule's
difference. Rules are combined as independent: P(gate stops) = 1 − Π(1 − Pᵢ). False alarms use δ = 0
and the baseline's own variance (the candidate replaced by a second baseline draw); detection uses the
candidate pilot. The smallest N meeting a target is the smallest planned N whose detection rate is at
least `detect` while its false-alarm rate is at most `false_alarm`.
Pure maths on feature arrays (the `genbench power` command finds the features).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from genbench.compare.gate import Z95, Rule
from genbench.compare.paired import Side, differences, metric_for, point_values
from genbench.metrics.base import MetricConfig

DEFAULT_SIZES = (250, 500, 1000, 2000, 5000, 10_000, 50_000)


@dataclass(frozen=True)
class VarianceLaw:
    """s²(N) = a / N + c of one rule's paired difference, with the pilot's mean difference δ."""

    a: float
    c: float
    delta: float

    def std(self, n: int) -> float:
        return math.sqrt(max(self.a / n + self.c, 0.0))


@dataclass(frozen=True)
class Target:
    """Smallest N wanted: detection >= `detect` at false alarms <= `false_alarm`."""

    detect: float = 0.95
    false_alarm: float = 0.05


@dataclass(frozen=True)
class PlanRow:
    n: int
    detection: float
    false_alarm: float
    per_rule: dict = field(default_factory=dict)  # rule -> (detection, false alarm)


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    laws: dict  # rule text -> {"candidate": VarianceLaw, "null": VarianceLaw} (resampled rules)
    target: Target
    smallest_n: int | None

    def to_json(self) -> dict:
        return {"target": {"detect": self.target.detect, "false_alarm": self.target.false_alarm},
                "smallest_n": self.smallest_n,
                "laws": {r: {k: vars(v) for k, v in d.items()} for r, d in self.laws.items()},
                "rows": [{"n": r.n, "detection": r.detection, "false_alarm": r.false_alarm,
                          "per_rule": r.per_rule} for r in self.rows]}


def fit_law(sizes: Sequence[int], variances: Sequence[float], delta: float) -> VarianceLaw:
    """Non-negative least squares of variances ≈ a/n + c (c set to 0 when the free fit makes it negative)."""
    x = np.column_stack([1.0 / np.asarray(sizes, dtype=np.float64), np.ones(len(sizes))])  # [K, 2]
    y = np.asarray(variances, dtype=np.float64)  # [K]
    a, c = np.linalg.lstsq(x, y, rcond=None)[0]
    if c < 0 or a < 0:
        a, c = (float(np.dot(x[:, 0], y) / np.dot(x[:, 0], x[:, 0])), 0.0) if c < 0 else (0.0, float(y.mean()))
    return VarianceLaw(max(float(a), 0.0), max(float(c), 0.0), float(delta))


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def stop_probability(rule: Rule, delta: float, std: float, z: float = Z95) -> float:
    """P(the rule does not pass) under d ~ Normal(δ, s²) with the interval d ± z·s (strict gate)."""
    margin = (rule.tolerance - delta) if rule.op == "<=" else (delta - rule.tolerance)
    if std <= 0:
        return 0.0 if margin >= 0 else 1.0
    return 1.0 - _phi(margin / std - z)


def combine(probs: Sequence[float]) -> float:
    """P(any rule stops the gate), the rules taken as independent."""
    return 1.0 - float(np.prod([1.0 - p for p in probs]))


def subset_variances(output: str, a: Side, b: Side, ref: Side, config: MetricConfig, sizes: Sequence[int],
                     reps: int, seed: int, context: Mapping[str, object], params: Mapping[str, object]) -> list[float]:
    """Bootstrap variance of d on a random subset of n rows of each pilot, for each n in `sizes`."""
    out, memo = [], {}
    for k, n in enumerate(sizes):
        rng = np.random.default_rng([seed, n, k])
        sa = Side(a.arrays, a.rows()[rng.integers(0, len(a.rows()), n)])
        sb = Side(b.arrays, b.rows()[rng.integers(0, len(b.rows()), n)])
        d = differences([output], sa, sb, ref, config, reps=reps, seed=seed + k, context=context, memo=memo,
                        params=params)[output]
        out.append(d.std ** 2)
    return out


def pilot_sizes(n_pilot: int) -> tuple[int, ...]:
    """Subset sizes the law is fitted on: a quarter, a half and all of the pilot."""
    return tuple(sorted({max(n_pilot // 4, 20), max(n_pilot // 2, 40), n_pilot}))


@dataclass(frozen=True)
class Pilot:
    """Pilot features: candidate, baseline and a second baseline draw (the null), and the reference."""

    candidate: Side
    baseline: Side
    null: Side
    reference: Side


def fit_laws(rule: Rule, pilot: Pilot, config: MetricConfig, reps: int, seed: int,
             context: Mapping[str, object], params: Mapping[str, object]) -> dict[str, VarianceLaw]:
    """The rule's variance law for the candidate (detection) and for a second baseline draw (false alarm)."""
    n0 = min(len(pilot.candidate.rows()), len(pilot.baseline.rows()))
    sizes = pilot_sizes(n0)
    out = {}
    for name, cand, delta_zero in (("candidate", pilot.candidate, False), ("null", pilot.null, True)):
        var = subset_variances(rule.metric, cand, pilot.baseline, pilot.reference, config, sizes, reps, seed,
                               context, params)
        delta = 0.0 if delta_zero else differences([rule.metric], cand, pilot.baseline, pilot.reference, config,
                                                   reps=2, seed=seed, context=context, params=params)[rule.metric].diff
        out[name] = fit_law(sizes, var, delta)
    return out


def exact_stop_rate(rule: Rule, cand: Side, base: Side, ref: Side, n: int, draws: int, seed: int,
                    config: MetricConfig, context: Mapping[str, object], params: Mapping[str, object]) -> float:
    """Share of `draws` subsets of n rows (with replacement) on which an exact rule does not pass."""
    metric = metric_for(rule.metric)(params.get(metric_for(rule.metric).name))
    rng = np.random.default_rng([seed, n, 0xE1])
    stops = 0
    for _ in range(draws):
        va, vb = (point_values(metric, s.take(s.rows()[rng.integers(0, len(s.rows()), n)]), ref.take(), config,
                               context)[rule.metric] for s in (cand, base))
        d = va - vb
        stops += int(d > rule.tolerance if rule.op == "<=" else d < rule.tolerance)
    return stops / draws


def is_exact(rule: Rule) -> bool:
    return not metric_for(rule.metric).bootstrap_sets


@dataclass(frozen=True)
class PlanOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    target: Target = Target()
    reps: int = 200
    seed: int = 0
    draws: int = 20  # subsets per N for exact rules


def plan(pilots: Mapping[Rule, Pilot], config: MetricConfig, opts: PlanOptions,
         contexts: Mapping[Rule, Mapping[str, object]] | None = None,
         params: Mapping[str, object] | None = None) -> Plan:
    """Predicted detection and false-alarm rates at each N of `opts.sizes`, and the smallest N meeting the
    target. `pilots` maps each rule (its metric a plain output name) to the pilot features of its space."""
    ctx, prm = dict(contexts or {}), dict(params or {})
    laws = {str(r): fit_laws(r, p, config, opts.reps, opts.seed, ctx.get(r, {}), prm)
            for r, p in pilots.items() if not is_exact(r)}
    rows = []
    for n in opts.sizes:
        per = {str(r): _rule_rates(r, p, n, laws, config, opts, ctx.get(r, {}), prm) for r, p in pilots.items()}
        rows.append(PlanRow(n, combine([p[0] for p in per.values()]), combine([p[1] for p in per.values()]), per))
    return Plan(tuple(rows), laws, opts.target, smallest_n(rows, opts.target))


def _rule_rates(rule: Rule, pilot: Pilot, n: int, laws: Mapping[str, dict], config: MetricConfig,
                opts: PlanOptions, context: Mapping[str, object], params: Mapping[str, object]) -> tuple[float, float]:
    """(detection, false alarm) of one rule at N."""
    if is_exact(rule):
        return tuple(exact_stop_rate(rule, s, pilot.baseline, pilot.reference, n, opts.draws, opts.seed, config,
                                     context, params) for s in (pilot.candidate, pilot.null))
    law = laws[str(rule)]
    return (stop_probability(rule, law["candidate"].delta, law["candidate"].std(n)),
            stop_probability(rule, 0.0, law["null"].std(n)))


def smallest_n(rows: Sequence[PlanRow], target: Target) -> int | None:
    for r in sorted(rows, key=lambda r: r.n):
        if r.detection >= target.detect and r.false_alarm <= target.false_alarm:
            return r.n
    return None
