"""Release-gate decisions: does a candidate regress against a baseline beyond a tolerance, given CIs?

A rule reads `METRIC<=+TOL` or `METRIC>=-TOL`: the difference d = candidate − baseline must stay
<= TOL (lower-is-better metrics such as fd) or >= TOL (higher-is-better metrics such as recall).

The difference interval, paired (the default whenever the features are available). Candidate and
baseline are scored against the same reference set, so the reference's sampling noise moves both
scores together and cancels in d. genbench.compare.paired bootstraps d itself: each replicate resamples the
shared reference once and each sample set once, computes both metrics on that one reference draw and
keeps d*; the interval is the bias-corrected percentile interval of the d* (paired bootstrap, Efron &
Tibshirani 1993, ch. 16; the shared-test-set argument of Koehn 2004 for comparing two systems). The
features come from the feature cache (keys from each result's sample fingerprint), from samples given
on the command line, or from re-opening a result's recorded source (genbench.compare.find_features).
Significance-tested counts (classes_covered) are not resampled: their difference is exact.

The fallback, independent intervals (only when features are unavailable; the report says so and why).
Each side's 95% half-width is h = 1.96·std when the result carries a bootstrap std, else half the width
of its 95% CI, else 0 (a bare number has no known uncertainty); d's interval is d ± sqrt(h_c² + h_b²).
It is not wider than the paired one: each side's own interval (FD's, for one) resamples its sample set
against a fixed reference, so it leaves out the reference's noise, and the combination ignores how the
two sides move together. Measured on digits at N = 1,000 (tests/benchmarks/bench_gate.py): fd half-width
5.0 against 7.0 paired, false alarms 6% against 3%.

The decision (for `<=`; `>=` mirrors it):
  pass          the whole interval is within the tolerance   (hi <= TOL)
  fail          the whole interval lies beyond it             (lo >  TOL)
  inconclusive  the interval straddles the tolerance
The gate fails when any rule fails; it is inconclusive when none fails and some rule is inconclusive.
Whether inconclusive passes is the caller's choice (INCONCLUSIVE_FAILS is the CLI's default; see the
README's gate section for the measured rates behind it), except that an inconclusive rule whose point
difference is already past its tolerance always fails (`--lenient` never passes it). Without explicit rules the protocol's
`gate_rules` apply, oriented by each metric's direction. A protocol fixes its sample count: results
scored at another N are refused (check_sample_counts) unless the caller allows it.
`calibrate_tolerances` derives tolerances from several real-vs-real evaluations.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from genbench.errors import ConfigError, InputError
from genbench.eval.result import protocol_id
from genbench.metrics.base import MetricValue
from genbench.protocols import PROTOCOLS, Protocol
from genbench.compare.paired import Difference
from genbench.eval.result import EvalResult

Z95 = 1.959963984540054
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
INDEPENDENT_METHOD = "independent: diff ± sqrt(h_cand² + h_base²), h = 1.96·std, else CI half-width, else 0"
# The CLI's default for an inconclusive gate: fail. Measured with paired intervals on digits (BENCHMARKS.md,
# "Release gate"): no real-vs-real draw ever *fails*; counting inconclusive as failing costs a false-alarm
# rate of 2% at N = 1,000 (9% at N = 600) and is the only way small regressions (added noise: fd +2,
# recall −0.04) are caught at all. --lenient passes an inconclusive gate.
INCONCLUSIVE_FAILS = True
_RULE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*(<=|>=)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$")


@dataclass(frozen=True)
class Rule:
    """candidate − baseline of `metric` must be `op` (<= or >=) the signed `tolerance`."""

    metric: str
    op: str
    tolerance: float
    source: str = "--rule"

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.tolerance:+g}"


def parse_rule(text: str) -> Rule:
    """Parse "fd<=+2.0" or "recall>=-0.02"; raises ConfigError naming the bad rule."""
    m = _RULE.match(text or "")
    if not m:
        raise ConfigError(f"--rule {text!r}: expected METRIC<=TOL or METRIC>=TOL with a signed number, "
                          f'e.g. "fd<=+2.0" or "recall>=-0.02"')
    tol = float(m.group(3))
    if not math.isfinite(tol):
        raise ConfigError(f"--rule {text!r}: the tolerance must be a finite number")
    return Rule(m.group(1), m.group(2), tol, "--rule")


def default_rules(protocol: Protocol, directions: dict[str, bool | None]) -> list[Rule]:
    """The protocol's gate_rules as Rules: a metric may not move in its bad direction beyond tolerance."""
    if not protocol.gate_rules:
        raise ConfigError(f"--protocol {protocol.name}: it has no default gate rules; give --rule")
    rules = []
    for g in protocol.gate_rules:
        higher = directions.get(g.metric)
        if higher is None:
            raise ConfigError(f"protocol {protocol.name}: gate metric {g.metric!r} has no direction in the "
                              f"results; give an explicit --rule for it")
        tol = abs(g.tolerance)
        rules.append(Rule(g.metric, ">=" if higher else "<=", -tol if higher else tol, f"{protocol.name} default"))
    return rules


def half_width(mv: MetricValue) -> float | None:
    """95% half-width of one value: 1.96·std, else half its CI width, else None."""
    if mv.std is not None and math.isfinite(float(mv.std)):
        return Z95 * float(mv.std)
    if mv.ci95 is not None:
        return (float(mv.ci95[1]) - float(mv.ci95[0])) / 2
    return None


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    baseline: float
    candidate: float
    diff: float
    lo: float
    hi: float
    status: str
    has_interval: bool
    method: str = INDEPENDENT_METHOD
    note: str = ""  # a direct comparison's deciding part (class_share: which class, its two shares)

    @property
    def past_tolerance(self) -> bool:
        """The point difference itself is already beyond the tolerance (whatever its interval)."""
        return self.diff > self.rule.tolerance if self.rule.op == "<=" else self.diff < self.rule.tolerance

    def to_json(self) -> dict:
        return {"rule": str(self.rule), "metric": self.rule.metric, "op": self.rule.op,
                "tolerance": self.rule.tolerance, "source": self.rule.source, "baseline": self.baseline,
                "candidate": self.candidate, "diff": self.diff, "diff_ci95": [self.lo, self.hi],
                "status": self.status, "has_interval": self.has_interval, "method": self.method,
                "past_tolerance": self.past_tolerance, **({"note": self.note} if self.note else {})}


def status_of(rule: Rule, lo: float, hi: float) -> str:
    """pass / fail / inconclusive of an interval [lo, hi] of the difference under one rule."""
    if rule.op == "<=":
        return PASS if hi <= rule.tolerance else FAIL if lo > rule.tolerance else INCONCLUSIVE
    return PASS if lo >= rule.tolerance else FAIL if hi < rule.tolerance else INCONCLUSIVE


def decide(rule: Rule, baseline: MetricValue, candidate: MetricValue) -> RuleOutcome:
    """Apply one rule to two values with their own (independent) uncertainties: the fallback."""
    hb, hc = half_width(baseline), half_width(candidate)
    h = math.sqrt((hb or 0.0) ** 2 + (hc or 0.0) ** 2)
    diff = float(candidate.value) - float(baseline.value)
    lo, hi = diff - h, diff + h
    return RuleOutcome(rule, float(baseline.value), float(candidate.value), diff, lo, hi,
                       status_of(rule, lo, hi), hb is not None or hc is not None)


def decide_paired(rule: Rule, d: Difference) -> RuleOutcome:
    """Apply one rule to a bootstrapped difference d = candidate − baseline (genbench.compare.paired)."""
    return RuleOutcome(rule, d.b, d.a, d.diff, d.lo, d.hi, status_of(rule, d.lo, d.hi), True, d.method, d.note)


def decide_recorded(rule: Rule, baseline: MetricValue, candidate: MetricValue) -> RuleOutcome | None:
    """A rule on a directly compared output (class_share) from the two results' recorded details (their
    class counts), by the metric's own test; None when the rule's output is not compared directly."""
    from genbench.compare.paired import from_direct, metric_for

    try:
        cls = metric_for(rule.metric)
    except ConfigError:
        return None
    if rule.metric not in cls.direct_comparisons:
        return None
    mv = cls().compare_recorded(rule.metric, candidate, baseline)
    if mv is None:
        raise InputError(f"{rule}: the results record no class counts to compare (details.counts of "
                         f"{rule.metric!r}); re-evaluate both with this version")
    return decide_paired(rule, from_direct(rule.metric, mv))


def paired_outcomes(rules: Sequence[Rule], diffs: dict[str, Difference]) -> tuple[RuleOutcome, ...]:
    """The outcome of every rule from paired differences keyed by metric (the benchmark calls this too)."""
    missing = [r.metric for r in rules if r.metric not in diffs]
    if missing:
        raise ConfigError(f"no paired difference for {', '.join(missing)}")
    return tuple(decide_paired(r, diffs[r.metric]) for r in rules)


@dataclass(frozen=True)
class GateReport:
    outcomes: tuple[RuleOutcome, ...]
    candidate: str
    baseline: str
    protocol_id: str
    warnings: tuple[str, ...] = ()
    method: str = INDEPENDENT_METHOD  # how the difference intervals were obtained
    fallback_reason: str | None = None  # why the paired comparison was not possible

    @property
    def status(self) -> str:
        states = {o.status for o in self.outcomes}
        return FAIL if FAIL in states else INCONCLUSIVE if INCONCLUSIVE in states else PASS

    def lenient_refuses(self) -> bool:
        """An inconclusive rule whose point difference is already past its tolerance: --lenient fails it too."""
        return any(o.status == INCONCLUSIVE and o.past_tolerance for o in self.outcomes)

    def exit_code(self, strict: bool = INCONCLUSIVE_FAILS) -> int:
        """0 pass (or inconclusive unless strict), 1 regression (or inconclusive under strict, or an
        inconclusive rule whose point difference is past its tolerance even when not strict)."""
        if self.status == FAIL:
            return 1
        return 1 if self.status == INCONCLUSIVE and (strict or self.lenient_refuses()) else 0

    def failing(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.status == FAIL]

    def table(self, only: Sequence[str] | None = None) -> str:
        """Plain-text table of the outcomes (optionally only those with the given statuses)."""
        shown = [o for o in self.outcomes if only is None or o.status in only]
        w = max([22] + [len(str(o.rule)) for o in shown])  # the rule column fits the longest rule
        lines = [f"{'rule':<{w}} {'baseline':>11} {'candidate':>11} {'diff':>11}  {'95% CI of diff':<25} status"]
        for o in shown:
            ci = f"[{o.lo:+.4g}, {o.hi:+.4g}]" if o.has_interval else "(no interval)"
            lines.append(f"{str(o.rule):<{w}} {o.baseline:>11.5g} {o.candidate:>11.5g} {o.diff:>+11.4g}  "
                         f"{ci:<25} {o.status.upper()}" + (f"  ({o.note})" if o.note else ""))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"status": self.status, "candidate": self.candidate, "baseline": self.baseline,
                "protocol_id": self.protocol_id, "rules": [o.to_json() for o in self.outcomes],
                "warnings": list(self.warnings), "interval": self.method, "paired": self.fallback_reason is None
                and self.method != INDEPENDENT_METHOD, "fallback_reason": self.fallback_reason}


def _value(result: EvalResult, metric: str, side: str) -> MetricValue:
    if metric not in result.metrics:
        why = result.skipped.get(metric)
        has = ", ".join(sorted(result.metrics)) or "none"
        raise InputError(f"{side}: metric {metric!r} is not in the result"
                         + (f" (skipped: {why})" if why else f" (has: {has})"))
    mv = result.metrics[metric]
    if mv.value is None or not math.isfinite(float(mv.value)):
        raise InputError(f"{side}: metric {metric!r} has no finite value ({mv.value})")
    return mv


def _check_comparable(candidate: EvalResult, baseline: EvalResult) -> str:
    a, b = protocol_id(candidate), protocol_id(baseline)
    if a != b:
        raise InputError(f"candidate and baseline were evaluated under different protocols "
                         f"(candidate {a}, baseline {b}); re-evaluate one under the other's protocol")
    return a


def check_sample_counts(candidate: EvalResult, baseline: EvalResult, protocol: Protocol | None,
                        allow: bool = False) -> list[str]:
    """Refuse (InputError, exit 2) a side scored at another N than the protocol fixes, or two sides at
    different N; with allow=True the mismatches come back as warnings instead."""
    problems = []
    fixed = protocol.num_samples if protocol is not None else None
    for side, r in (("candidate", candidate), ("baseline", baseline)):
        n = r.protocol.get("n_gen", r.samples.get("n"))
        if fixed is not None and n != fixed:
            problems.append(f"{side} was scored at N = {n} but protocol {protocol.name} fixes N = {fixed}")
    nc, nb = (r.protocol.get("n_gen", r.samples.get("n")) for r in (candidate, baseline))
    if nc != nb and not problems:
        problems.append(f"candidate (N = {nc}) and baseline (N = {nb}) were scored at different N")
    if problems and not allow:
        raise InputError("; ".join(problems) + " (metrics such as FD depend on N; re-evaluate at the "
                         "protocol's N, or pass --allow-n-mismatch)")
    return problems


def sample_count_warning(result: EvalResult) -> str | None:
    """A warning when `result` has fewer samples than its protocol fixes (it will not rank with that board)."""
    name = str(result.protocol.get("protocol"))
    fixed = PROTOCOLS.get(name).num_samples if name in PROTOCOLS else None
    n = result.protocol.get("n_gen", result.samples.get("n"))
    if fixed is None or n is None or int(n) >= fixed:
        return None
    return (f"{n} samples, but protocol {name} fixes N = {fixed}: this result will not rank with the "
            f"protocol's board (its protocol_id says n={n}), and `genbench gate` refuses it unless "
            f"--allow-n-mismatch")


def resolve_rules(candidate: EvalResult, baseline: EvalResult, rules: Sequence[Rule | str] | None,
                  protocol: Protocol | str | None) -> list[Rule]:
    """Explicit rules, or the protocol's defaults oriented by the results' metric directions."""
    parsed = [r if isinstance(r, Rule) else parse_rule(r) for r in (rules or [])]
    if parsed:
        return parsed
    proto = protocol if isinstance(protocol, Protocol) else PROTOCOLS.get(
        protocol or str(candidate.protocol.get("protocol")))
    return default_rules(proto, {**baseline.directions, **candidate.directions})


def compare(candidate: EvalResult, baseline: EvalResult, rules: Sequence[Rule | str] | None = None,
            protocol: Protocol | str | None = None, diffs: dict[str, Difference] | None = None,
            fallback_reason: str | None = None) -> GateReport:
    """Gate `candidate` against `baseline`: explicit rules, or the protocol's defaults when none given.

    `diffs` (genbench.compare.paired.differences of candidate vs baseline) gives paired intervals; without it the
    results' own intervals are combined as independent, and `fallback_reason` says why.
    """
    pid = _check_comparable(candidate, baseline)
    parsed = resolve_rules(candidate, baseline, rules, protocol)
    if diffs is not None:
        outcomes = paired_outcomes(parsed, diffs)
        method = "; ".join(sorted({o.method for o in outcomes}))
    else:
        outcomes = tuple(_decide_fallback(r, _value(baseline, r.metric, "baseline"),
                                          _value(candidate, r.metric, "candidate")) for r in parsed)
        method = INDEPENDENT_METHOD
    warn = _warnings(candidate, baseline, outcomes)
    if diffs is None:
        warn.insert(0, "features unavailable, so the two results' own intervals are combined as independent "
                       "(not the paired test whose error rates the README gives; on digits narrower, with more "
                       f"false alarms): {fallback_reason or 'no features given'}")
    return GateReport(outcomes, candidate.name or "candidate", baseline.name or "baseline", pid, tuple(warn),
                      method, None if diffs is not None else (fallback_reason or "no features given"))


def _decide_fallback(rule: Rule, baseline: MetricValue, candidate: MetricValue) -> RuleOutcome:
    """A rule without features: a direct comparison from the recorded counts, else independent intervals."""
    return decide_recorded(rule, baseline, candidate) or decide(rule, baseline, candidate)


def _warnings(candidate: EvalResult, baseline: EvalResult, outcomes: tuple[RuleOutcome, ...]) -> list[str]:
    out = [f"{side} was computed with UNVERIFIED weights" for side, r in
           (("candidate", candidate), ("baseline", baseline)) if r.unverified]
    out += [f"{o.rule}: neither result has a std or CI; bare values compared" for o in outcomes
            if not o.has_interval]
    out += [f"{o.rule}: inconclusive — the interval [{o.lo:+.4g}, {o.hi:+.4g}] of the difference straddles "
            f"the tolerance {o.rule.tolerance:+g}" for o in outcomes if o.status == INCONCLUSIVE]
    return out


def calibrate_tolerances(results: Sequence[EvalResult], metrics: Sequence[str],
                         method: str = "range") -> dict[str, float]:
    """Tolerances from several real-vs-real evaluations (independent real subsets, or seeds).

    method "range": the largest difference between any two of them (max − min), i.e. the largest
    movement observed when nothing changed; "2sd": 2·√2·std (ddof 1), twice the std of a difference
    of two independent evaluations.
    """
    if len(results) < 2:
        raise ConfigError(f"calibrate_tolerances: needs >= 2 real-vs-real results, got {len(results)}")
    if method not in ("range", "2sd"):
        raise ConfigError(f"calibrate_tolerances: unknown method {method!r} (range, 2sd)")
    out = {}
    for m in metrics:
        vals = np.array([float(_value(r, m, f"result {i}").value) for i, r in enumerate(results)])
        out[m] = float(vals.max() - vals.min()) if method == "range" else float(2 * math.sqrt(2) * vals.std(ddof=1))
    return out
