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
smallest N meeting a target is the smallest planned N whose detection rate is at least `detect` while its
false-alarm rate is at most `false_alarm`. Pure maths on feature arrays (the `genbench power` command finds
the features).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

from genbench.compare.gate import Z95, Rule
from genbench.compare.joint import all_pass, correlation, normals
from genbench.compare.laws import CONDITIONS, Pilot, RuleLaw, exact_stop_rate, fit_rule, is_exact, margin
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
    detection: float
    false_alarm: float
    per_rule: dict = field(default_factory=dict)  # rule -> (detection, false alarm)


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    laws: dict  # rule text -> {"candidate": VarianceLaw, "null": VarianceLaw} (resampled rules)
    target: Target
    smallest_n: int | None
    correlations: dict = field(default_factory=dict)  # condition -> {"rules": [...], "matrix": [[...]]}

    def to_json(self) -> dict:
        return {"target": {"detect": self.target.detect, "false_alarm": self.target.false_alarm},
                "smallest_n": self.smallest_n, "correlations": self.correlations,
                "laws": {r: {k: {"draws": vars(v.draws), "interval": vars(v.interval)} for k, v in d.items()}
                         for r, d in self.laws.items()},
                "rows": [{"n": r.n, "detection": r.detection, "false_alarm": r.false_alarm,
                          "per_rule": r.per_rule} for r in self.rows]}


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
    fits = {r: fit_rule(maths[r], p, config, opts.reps, opts.seed, opts.draws, ctx.get(r, {}), prm,
                        opts.with_replacement, opts.subsets)
            for r, p in pilots.items() if not is_exact(maths[r])}
    laws = {str(r): f[0] for r, f in fits.items()}
    corr = {c: correlation([f[1][c] for f in fits.values()]) if aligned(pilots, fits) else np.eye(len(fits))
            for c in CONDITIONS} if fits else {}
    z = normals(len(fits), opts.seed)
    rows = []
    for n in opts.sizes:
        per = {str(r): _rule_rates(maths[r], p, n, laws.get(str(r)), config, opts, ctx.get(r, {}), prm)
               for r, p in pilots.items()}
        exact = [per[str(r)] for r in pilots if r not in fits]
        rates = [joint_stop(list(fits), [laws[str(r)][c] for r in fits], corr.get(c), n, z, [e[k] for e in exact])
                 for k, c in enumerate(CONDITIONS)]
        rows.append(PlanRow(n, rates[0], rates[1], per))
    return Plan(tuple(rows), laws, opts.target, smallest_n(rows, opts.target),
                {c: {"rules": [str(r) for r in fits], "matrix": m.round(6).tolist()} for c, m in corr.items()})


def aligned(pilots: Mapping[Rule, Pilot], fits: Mapping[Rule, object]) -> bool:
    """True when every resampled rule's pilot sides have the same row counts, so that their draws (whose row
    positions depend only on the seed, N and these counts) took the same rows: a joint sample."""
    shapes = {tuple(len(s.rows()) for s in (pilots[r].candidate, pilots[r].baseline, pilots[r].null)) for r in fits}
    return len(shapes) <= 1


def joint_stop(rules: Sequence[Rule], laws: Sequence[RuleLaw], corr: np.ndarray | None, n: int, z: np.ndarray,
               exact: Sequence[float], z95: float = Z95) -> float:
    """P(the gate stops at N): the resampled rules jointly (correlation `corr`), the exact rules' simulated
    rates taken as independent of them."""
    p_pass = 1.0
    if rules:
        slack = np.array([margin(r, l.draws.delta) - z95 * l.interval.std(n) for r, l in zip(rules, laws)])
        sign = np.array([1.0 if r.op == "<=" else -1.0 for r in rules])
        sd = np.array([l.draws.std(n) for l in laws])
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
    for r in sorted(rows, key=lambda r: r.n):
        if r.detection >= target.detect and r.false_alarm <= target.false_alarm:
            return r.n
    return None
