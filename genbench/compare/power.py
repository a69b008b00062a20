"""Sample-size planning for the release gate: detection and false-alarm rates against N.

Given pilot features of a baseline and a candidate (a regression, or a second draw of the baseline) and
the reference, the planner predicts how often the gate (genbench.compare.gate, strict: an inconclusive
rule fails) stops the candidate at each N, from each rule's variance laws (genbench.compare.laws: the
scaling law var(N) = a/N + c of the paired difference and of the gate's bootstrap). The gate stops when any
rule does not pass. The resampled rules are decided jointly (genbench.compare.joint): their differences are
correlated (one sample set feeds every rule), with the correlation measured on the pilot draws, which take
the same rows for every rule; exact rules are taken as independent of them:
P(gate stops) = 1 − P(resampled rules all pass)·Π(1 − P_exact). False alarms use δ = 0 and the baseline's
own variance (the candidate replaced by a second baseline draw); detection uses the candidate pilot. The
smallest N meeting a target is the smallest reliable planned N whose detection rate is at least `detect`
while its false-alarm rate is at most `false_alarm`. Detection carries the uncertainty of the pilot's own effect
(genbench.compare.effects): an interval over δ's standard error and the rate averaged over it; a plan
whose pilot effect no rule can tell from zero says so. Rows at N below an FD space's dimension are marked
unreliable (FD on fewer rows than features is singular). Pure maths on feature arrays (the `genbench
power` command finds the features).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

from genbench.compare.effects import (exact_effect, favourable_weight, resampled_effect, simultaneous_z,
                                     undistinguished, wilson)
from genbench.compare.gate import Z95, Rule
from genbench.compare.joint import all_pass, correlation, normals
from genbench.compare.laws import (CONDITIONS, Pilot, RuleLaw, exact_interval, exact_stop_rate, fit_rule, is_exact,
                                   margin)
from genbench.compare.paired import metric_for
from genbench.errors import ConfigError
from genbench.metrics.base import MetricConfig
from genbench.seeding import check_seed

DEFAULT_SIZES = (250, 500, 1000, 2000, 5000, 10_000, 50_000)


@dataclass(frozen=True)
class Target:
    """Smallest N wanted: detection >= `detect` at false alarms <= `false_alarm`."""

    detect: float = 0.95
    false_alarm: float = 0.05


@dataclass(frozen=True)
class PlanRow:
    n: int
    detection: float  # at the pilot's estimated effect δ̂
    false_alarm: float
    per_rule: dict = field(default_factory=dict)  # rule -> (detection, false alarm)
    detection_range: tuple[float, float] = (0.0, 1.0)  # over δ's uncertainty (genbench.compare.effects)
    detection_expected: float = float("nan")  # averaged over δ ~ Normal(δ̂, se²)
    reliable: bool = True  # False: N below an FD space's dimension

    def to_json(self) -> dict:
        return {"n": self.n, "detection": self.detection, "detection_interval": list(self.detection_range),
                "detection_expected": self.detection_expected, "false_alarm": self.false_alarm,
                "reliable": self.reliable, "per_rule": self.per_rule}


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    laws: dict  # rule text -> {"candidate": VarianceLaw, "null": VarianceLaw} (resampled rules)
    target: Target
    smallest_n: int | None
    correlations: dict = field(default_factory=dict)  # condition -> {"rules": [...], "matrix": [[...]]}
    effects: dict = field(default_factory=dict)  # rule text -> the candidate pilot's effect (effects.py)
    fd_floor: int = 0  # the widest FD space's dimension: rows below it are unreliable

    @property
    def effect_distinguishable(self) -> bool:
        return undistinguished(self.effects) is None

    def to_json(self) -> dict:
        return {"target": {"detect": self.target.detect, "false_alarm": self.target.false_alarm},
                "smallest_n": self.smallest_n, "correlations": self.correlations,
                "effect_distinguishable": self.effect_distinguishable, "effects": self.effects,
                "notes": notes(self),
                "laws": {r: {k: {"draws": vars(v.draws), "interval": vars(v.interval)} for k, v in d.items()}
                         for r, d in self.laws.items()},
                "rows": [r.to_json() for r in self.rows]}


MAX_PLAN_N = 1_000_000  # the planner extrapolates to N; simulating exact rules draws N rows per draw
MAX_REPS = 100_000


@dataclass(frozen=True)
class PlanOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    target: Target = Target()
    reps: int = 200
    seed: int = 0
    draws: int = 40  # fresh pilot subsets per size: the spread of d, and exact rules' decisions
    with_replacement: bool = False  # True: subsets drawn as a benchmark draws from a finite pool
    subsets: int = 4  # pilot subsets per size whose bootstrap variances are averaged

    def __post_init__(self) -> None:
        """Every count a user can type is bounded before any work (exact rules simulate draws of N rows)."""
        if not self.sizes or any(isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_PLAN_N
                                 for n in self.sizes):
            raise ConfigError(f"--sizes {list(self.sizes)}: every N must be a whole number from 2 to {MAX_PLAN_N:,}")
        for name, flag, lo, hi in (("reps", "bootstrap", 2, MAX_REPS), ("draws", "draws", 2, MAX_REPS),
                                   ("subsets", "subsets", 1, 1000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(f"--{flag} {v!r}: must be a whole number from {lo} to {hi:,}")
        check_seed(self.seed, "--seed")


def plan(pilots: Mapping[Rule, Pilot], config: MetricConfig, opts: PlanOptions,
         contexts: Mapping[Rule, Mapping[str, object]] | None = None,
         params: Mapping[str, object] | None = None, outputs: Mapping[Rule, str] | None = None) -> Plan:
    """Predicted detection and false-alarm rates at each N of `opts.sizes`, and the smallest N meeting the
    target. `pilots` maps each rule to the pilot features of its space; `outputs` names the output the
    metric maths computes for a rule whose metric carries a space suffix (fd_pixels -> fd; default: the
    rule's metric). The pilots of different spaces hold the same images in the same order (build_pilots),
    so the resampled rules are decided jointly (genbench.compare.joint). Results are keyed by str(rule)."""
    out, ctx, prm = dict(outputs or {}), dict(contexts or {}), dict(params or {})
    maths = {r: replace(r, metric=out.get(r, r.metric)) for r in pilots}  # the rule as its maths names it
    floor = fd_floor(pilots, maths)
    fits = {r: fit_rule(maths[r], p, config, opts.reps, opts.seed, opts.draws, ctx.get(r, {}), prm,
                        opts.with_replacement, opts.subsets, floor)
            for r, p in pilots.items() if not is_exact(maths[r])}
    laws = {str(r): f[0] for r, f in fits.items()}
    corr = {c: correlation([f[1][c] for f in fits.values()]) if aligned(pilots, fits) else np.eye(len(fits))
            for c in CONDITIONS} if fits else {}
    z = normals(len(fits), opts.seed)
    effects = {str(r): resampled_effect(laws[str(r)]["candidate"].draws.delta, laws[str(r)]["candidate"].draws.se)
               if r in fits else _exact_effect(maths[r], pilots[r], config, ctx.get(r, {}), prm) for r in pilots}
    rows = [_row(n, pilots, maths, fits, laws, corr, z, config, opts, ctx, prm, floor, effects) for n in opts.sizes]
    return Plan(tuple(rows), laws, opts.target, smallest_n(rows, opts.target),
                {c: {"rules": [str(r) for r in fits], "matrix": m.round(6).tolist()} for c, m in corr.items()},
                effects, floor)


def _row(n: int, pilots: Mapping[Rule, Pilot], maths: Mapping[Rule, Rule], fits: Mapping[Rule, object],
         laws: Mapping[str, dict], corr: Mapping[str, np.ndarray], z: np.ndarray, config: MetricConfig,
         opts: PlanOptions, ctx: Mapping[Rule, Mapping[str, object]], prm: Mapping[str, object],
         floor: int, effects: Mapping[str, dict]) -> PlanRow:
    """One N: detection at δ̂, over δ's uncertainty and averaged over it, and the false-alarm rate."""
    per = {str(r): _rule_rates(maths[r], p, n, laws.get(str(r)), config, opts, ctx.get(r, {}), prm)
           for r, p in pilots.items()}
    exact = [per[str(r)][0] for r in pilots if r not in fits]
    bounds = [(wilson(_exact_low(maths[r], pilots[r], n, effects[str(r)], per[str(r)][0], config, opts,
                                 ctx.get(r, {}), prm), opts.draws)[0], wilson(per[str(r)][0], opts.draws)[1])
              for r in pilots if r not in fits]
    rules, cand = list(fits), [laws[str(r)]["candidate"] for r in fits]
    zr = simultaneous_z(len(rules))
    detect = joint_stop(rules, cand, corr.get("candidate"), n, z, exact)
    lo = joint_stop(rules, cand, corr.get("candidate"), n, z, [b[0] for b in bounds], shift=-zr)
    hi = joint_stop(rules, cand, corr.get("candidate"), n, z, [b[1] for b in bounds], shift=zr)
    expected = joint_stop(rules, cand, corr.get("candidate"), n, z, exact, spread=True)
    false_alarm = joint_stop(rules, [laws[str(r)]["null"] for r in fits], corr.get("null"), n, z,
                             [per[str(r)][1] for r in pilots if r not in fits])
    return PlanRow(n, detect, false_alarm, per, (min(lo, detect), max(hi, detect)), expected, n >= floor)


def _exact_low(rule: Rule, pilot: Pilot, n: int, effect: Mapping[str, object], plug_in: float,
               config: MetricConfig, opts: PlanOptions, context: Mapping[str, object],
               params: Mapping[str, object]) -> float:
    """An exact rule's stop rate with its effect at the favourable end of the pilots' interval."""
    w = favourable_weight(rule.op, effect)
    if w >= 1.0:
        return plug_in
    return exact_stop_rate(rule, pilot.candidate, pilot.baseline, pilot.reference, n, opts.draws, opts.seed,
                           config, context, params, mix=w)


def fd_floor(pilots: Mapping[Rule, Pilot], maths: Mapping[Rule, Rule]) -> int:
    """The widest feature space among the FD rules (0 when none): fewer rows than this make FD singular."""
    dims = [p.baseline.arrays["embedding"].shape[1] for r, p in pilots.items()
            if maths[r].metric == "fd" and "embedding" in p.baseline.arrays]
    return max(dims, default=0)


def _exact_effect(rule: Rule, pilot: Pilot, config: MetricConfig, context: Mapping[str, object],
                  params: Mapping[str, object]) -> dict:
    """An exact rule's difference between the whole pilots, with the gate's interval."""
    metric = metric_for(rule.metric)(params.get(metric_for(rule.metric).name))
    return exact_effect(*exact_interval(rule.metric, metric, pilot.candidate.take(), pilot.baseline.take(),
                                        pilot.reference.take(), config, context))


def aligned(pilots: Mapping[Rule, Pilot], fits: Mapping[Rule, object]) -> bool:
    """True when every resampled rule's pilot sides have the same row counts, so that their draws (whose row
    positions depend only on the seed, N and these counts) took the same rows: a joint sample."""
    shapes = {tuple(len(s.rows()) for s in (pilots[r].candidate, pilots[r].baseline, pilots[r].null)) for r in fits}
    return len(shapes) <= 1


def joint_stop(rules: Sequence[Rule], laws: Sequence[RuleLaw], corr: np.ndarray | None, n: int, z: np.ndarray,
               exact: Sequence[float], z95: float = Z95, shift: float = 0.0, spread: bool = False) -> float:
    """P(the gate stops at N): the resampled rules jointly (correlation `corr`), the exact rules' simulated
    rates taken as independent of them. `shift` moves every δ by shift·se towards failing (negative: towards
    passing); `spread` averages over δ ~ Normal(δ̂, se²) (the spread of d widened to √(sd² + se²))."""
    p_pass = 1.0
    if rules:
        slack = np.array([margin(r, l.draws.delta) - shift * l.draws.se - z95 * l.interval.std(n)
                          for r, l in zip(rules, laws)])
        sign = np.array([1.0 if r.op == "<=" else -1.0 for r in rules])
        sd = np.array([math.hypot(l.draws.std(n), l.draws.se if spread else 0.0) for l in laws])
        p_pass = all_pass(slack, sign, sd, corr, z)
    return 1.0 - p_pass * float(np.prod([1.0 - p for p in exact]))


def _rule_rates(rule: Rule, pilot: Pilot, n: int, law: Mapping[str, RuleLaw] | None, config: MetricConfig,
                opts: PlanOptions, context: Mapping[str, object], params: Mapping[str, object]) -> tuple[float, float]:
    """(detection, false alarm) of one rule at N: from its laws, or simulated for an exact rule (law None)."""
    if law is None:
        return tuple(exact_stop_rate(rule, s, pilot.baseline, pilot.reference, n, opts.draws, opts.seed, config,
                                     context, params) for s in (pilot.candidate, pilot.null))
    return law["candidate"].stop(rule, n), law["null"].stop(rule, n)


def smallest_n(rows: Sequence[PlanRow], target: Target) -> int | None:
    """The smallest reliable N whose predicted rates meet the target (None: no planned N does)."""
    for r in sorted(rows, key=lambda r: r.n):
        if r.reliable and r.detection >= target.detect and r.false_alarm <= target.false_alarm:
            return r.n
    return None


def shortfall(row: PlanRow, target: Target) -> float:
    """How far a row misses the target, in rate points summed over detection and false alarms (0: met)."""
    return max(target.detect - row.detection, 0.0) + max(row.false_alarm - target.false_alarm, 0.0)


def target_statement(plan: Plan) -> str:
    """The smallest-N line, consistent with the table: which target the closest N misses and by how much,
    and whether the pilot's uncertainty straddles the detection target."""
    t = plan.target
    head = f"smallest N with detection >= {100 * t.detect:g}% at false alarms <= {100 * t.false_alarm:g}%: "
    rows = sorted(plan.rows, key=lambda r: r.n)
    if plan.smallest_n is not None:
        row = next(r for r in rows if r.n == plan.smallest_n)
        return head + f"N = {row.n:,}" + _straddle(row, t)
    best = min(rows, key=lambda r: (not r.reliable, shortfall(r, t), r.n))
    det = (f"detection {100 * best.detection:.1f}% meets its target" if best.detection >= t.detect else
           f"detection {100 * best.detection:.1f}% is {100 * (t.detect - best.detection):.1f} points short")
    fa = (f"false alarms {100 * best.false_alarm:.1f}% meet theirs" if best.false_alarm <= t.false_alarm else
          f"false alarms {100 * best.false_alarm:.1f}% are {100 * (best.false_alarm - t.false_alarm):.1f} points over")
    return head + f"none of the planned N reaches both; the closest, N = {best.n:,}: {det}, {fa}" + _straddle(best, t)


def _straddle(row: PlanRow, t: Target) -> str:
    lo, hi = row.detection_range
    if lo < t.detect <= hi:
        return (f" (over the pilot's uncertainty detection is {100 * lo:.0f}–{100 * hi:.0f}% at this N, which "
                f"straddles the {100 * t.detect:g}% target)")
    return ""


WIDE = 0.5  # a detection interval wider than this many rate points is called out


def notes(plan: Plan) -> list[str]:
    """What the table needs read with it: the target line, an undistinguished effect, unreliable rows."""
    out = [target_statement(plan)]
    if (text := undistinguished(plan.effects)) is not None:
        out.append(text)
    wide = [r.n for r in plan.rows if r.detection_range[1] - r.detection_range[0] > WIDE]
    if wide:
        out.append(f"detection at N = {', '.join(f'{n:,}' for n in wide)} is uncertain by more than "
                   f"{100 * WIDE:.0f} points: the pilot cannot tell the rate there; a larger pilot narrows it")
    bad = [r.n for r in plan.rows if not r.reliable]
    if bad:
        out.append(f"unreliable rows (marked !): N = {', '.join(f'{n:,}' for n in bad)} is below {plan.fd_floor}, "
                   "the widest FD space's feature dimension, where FD is singular and strongly biased")
    return out
