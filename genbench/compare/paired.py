"""Paired bootstrap of a difference between two sample sets scored against one shared reference.

The gate and the leaderboard ask whether model A is worse than model B by more than some amount, where
both are scored against the *same* reference set. Bootstrapping each score on its own and combining the
two intervals as if independent (d ± sqrt(h_a² + h_b²)) counts the reference's sampling noise twice,
although it moves both scores together: with a 359-image reference, most of FD's interval is that
shared term. The paired bootstrap (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 16
on comparing two samples; the same idea as paired comparisons of systems on one test set, Koehn 2004)
resamples the quantity of interest directly: each replicate draws the reference once and each sample
set once (rows with replacement, sizes kept), computes both metrics on that one reference draw and
keeps d* = m(A*, R*) − m(B*, R*). The 95% interval is the bias-corrected percentile interval of the d*
(as genbench.metrics.bootstrap does for single values: [q2.5 − b, q97.5 − b], b = mean(d*) − d).

`paired=False` runs the same loop with a separate reference draw for each side; that is the
independent interval the paired one replaces, kept for comparison (tests, benchmarks).
Metrics that are not resampled (`bootstrap_sets == ()`: significance-tested counts such as
classes_covered) give their point difference with a zero-width interval. Outputs a metric compares
directly (`Metric.direct_comparisons`: class_share) come from its own test of set A against set B, with
the test's exact interval; they involve no reference and no resampling.
Each set is a `Side`: the rows of a pool of feature arrays (the set itself by default). The replicates of
the outputs a metric lists in its `count_replicates` come from its own `count_values`, on row counts over
the pools (genbench.metrics.functional.counts: no [N, N] pass per replicate); every other metric runs its
own `point` on the materialised resample.
Pure maths on feature arrays: no IO (genbench.compare.find_features finds the features).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.bootstrap import bias_corrected
from genbench.metrics.functional.counts import Pool, Resample, materialise
from genbench.numerics import feature_width, small_linalg

Arrays = Mapping[str, np.ndarray]  # role ("embedding", "class_probs", ...) -> [P, ...] pool rows
PAIRED, INDEPENDENT, EXACT = "paired bootstrap", "independent bootstrap", "exact (not resampled)"
DIRECT = "direct test of the two sets (exact interval)"


@dataclass(frozen=True)
class Side:
    """One sample set: `index` selects its rows (repeats allowed) from the pool `arrays` (None: all)."""

    arrays: Arrays
    index: np.ndarray | None = None

    @property
    def pool_size(self) -> int:
        return len(next(iter(self.arrays.values())))

    def rows(self) -> np.ndarray:
        return np.arange(self.pool_size) if self.index is None else np.asarray(self.index, dtype=np.int64)

    def take(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        r = self.rows() if rows is None else rows
        return {k: v[r] for k, v in self.arrays.items()}


@dataclass(frozen=True)
class Difference:
    """d = m(A) − m(B) of one output with its 95% interval."""

    metric: str
    a: float
    b: float
    diff: float
    lo: float
    hi: float
    std: float
    replicates: int
    method: str
    note: str = ""  # what a direct comparison's a and b are (class_share: the worst-kept class's shares)

    def to_json(self) -> dict:
        out = {"metric": self.metric, "a": self.a, "b": self.b, "diff": self.diff, "ci95": [self.lo, self.hi],
               "std": self.std, "replicates": self.replicates, "method": self.method}
        return {**out, "note": self.note} if self.note else out


def direct_difference(metric: Metric, output: str, a: Arrays, b: Arrays) -> Difference:
    """The metric's own test of set A against set B on `output` (one of its `direct_comparisons`)."""
    mv = metric.compare_sets(output, *(MetricInputs({f"fake.{k}": v for k, v in s.items()}) for s in (a, b)))
    return from_direct(output, mv)


def from_direct(output: str, mv: MetricValue) -> Difference:
    """A Difference from a direct comparison's value: a, b are the shares of the class that decides it."""
    d = mv.details
    lo, hi = mv.ci95 if mv.ci95 is not None else (mv.value, mv.value)
    a, b = float(d.get("share", mv.value)), float(d.get("baseline_share", float("nan")))
    note = f"diff: relative change of the worst-kept class {d.get('worst_class')}'s share, {b:.4g} -> {a:.4g}"
    return Difference(output, a, b, float(mv.value), float(lo), float(hi), 0.0, 0, DIRECT, note)


def metric_for(output: str) -> type[Metric]:
    """The registered metric class that produces `output` (ConfigError when none does)."""
    from genbench.metrics import load_all

    load_all()
    for name in METRICS.names():
        if output in METRICS.get(name).outputs:
            return METRICS.get(name)
    raise ConfigError(f"no metric produces {output!r}")


def point_values(metric: Metric, fake: Arrays, real: Arrays, config: MetricConfig,
                 context: Mapping[str, object] | None = None) -> dict[str, float]:
    """{output: value} of one metric on one (fake, real) pair of feature sets."""
    arrays = {f"fake.{k}": v for k, v in fake.items()}
    arrays.update({f"real.{k}": v for k, v in real.items()})
    vals = metric.point(MetricInputs(arrays, dict(context or {})), config)
    return {k: float(v.value if isinstance(v, MetricValue) else v) for k, v in vals.items()}


@dataclass
class _Fast:
    """Row-count replicates by the metric's `count_values`; pools memoised by array identity in `memo`."""

    metric: Metric
    config: MetricConfig
    memo: dict = field(default_factory=dict)

    def pool(self, side: Side) -> Pool:
        x = side.arrays["embedding"]
        if ("pool", id(x)) not in self.memo:
            self.memo[("pool", id(x))] = (x, Pool.of(x))  # x kept alive, so its id stays its own
        return self.memo[("pool", id(x))][1]

    def differences(self, outputs: Sequence[str], a: Side, b: Side, ref: Side,
                    draws: Sequence[tuple[np.ndarray, ...]]) -> np.ndarray:
        """[reps, len(outputs)] m(A*, R*) − m(B*, R*) for draws (ca, cb, cr, cr_b), all replicates in one
        `count_batch` call (tasks A₁, B₁, A₂, B₂, …: consecutive tasks share their reference draw)."""
        pa, pb, pr = self.pool(a), self.pool(b), self.pool(ref)
        tasks = []
        for ca, cb, cr, cr_b in draws:
            tasks += [(Resample(pa, ca), Resample(pr, cr)), (Resample(pb, cb), Resample(pr, cr_b))]
        vals = self.metric.count_batch(outputs, tasks, self.config)
        v = np.array([[d[o] for o in outputs] for d in vals], dtype=np.float64)  # [2·reps, outputs]
        return v[0::2] - v[1::2]


def _counts(rng: np.random.Generator, side: Side) -> np.ndarray:
    rows = side.rows()
    draw = rows[rng.integers(0, len(rows), len(rows))]
    return np.bincount(draw, minlength=side.pool_size).astype(np.float64)  # [P]


def _replicates(metric: Metric, outputs: Sequence[str], a: Side, b: Side, ref: Side, config: MetricConfig,
                context: Mapping[str, object], reps: int, seed: int, paired: bool, fast: _Fast | None) -> np.ndarray:
    """[reps, len(outputs)] float64 bootstrap differences m(A*, R*) − m(B*, R*)."""
    rng = np.random.default_rng([seed, 0xD1FF])
    draws = []
    for _ in range(reps):
        ca, cb, cr = _counts(rng, a), _counts(rng, b), _counts(rng, ref)
        draws.append((ca, cb, cr, cr if paired else _counts(rng, ref)))
    if fast is not None:
        return fast.differences(outputs, a, b, ref, draws)
    out = np.empty((reps, len(outputs)), dtype=np.float64)
    inner = config.with_(bootstrap=0)
    for i, (ca, cb, cr, cr_b) in enumerate(draws):
        ra, rb, rr, rr_b = (materialise(c) for c in (ca, cb, cr, cr_b))
        va = point_values(metric, a.take(ra), ref.take(rr), inner, context)
        vb = point_values(metric, b.take(rb), ref.take(rr_b), inner, context)
        out[i] = [va[o] - vb[o] for o in outputs]
    return out


def _summarise(output: str, va: float, vb: float, reps: np.ndarray, method: str) -> Difference:
    d = va - vb
    r = reps[np.isfinite(reps)]
    if len(r) < 2:
        return Difference(output, va, vb, d, d, d, 0.0, len(r), EXACT)
    iv = bias_corrected(d, r)
    return Difference(output, va, vb, d, iv.lo, iv.hi, iv.std, len(r), method)


def _use_fast(cls: type[Metric], outputs: Sequence[str], sides: Sequence[Side]) -> bool:
    """Row-count replicates: when the metric declares them for every output (Metric.count_replicates) and
    every pool fits its count formulas (Metric.count_pool_limit)."""
    limit = cls.count_pool_limit
    return (set(outputs) <= set(cls.count_replicates) and all("embedding" in s.arrays for s in sides)
            and (limit is None or all(s.pool_size <= limit for s in sides)))


def differences(outputs: Sequence[str], a: Side, b: Side, ref: Side, config: MetricConfig, reps: int = 200,
                seed: int = 0, paired: bool = True, context: Mapping[str, object] | None = None,
                memo: dict | None = None, params: Mapping[str, object] | None = None) -> dict[str, Difference]:
    """Bootstrap d = m(A) − m(B) against one reference for every output (one metric's outputs share
    replicates). `params` maps metric names to their Params (a protocol's `params`; defaults otherwise);
    `memo` keeps per-pool distance work between calls on the same pools (benchmarks)."""
    if reps < 2:
        raise ConfigError(f"--bootstrap: the paired comparison needs >= 2 replicates, got {reps}")
    ctx = dict(context or {})
    by_metric: dict[type[Metric], list[str]] = {}
    for o in outputs:
        by_metric.setdefault(metric_for(o), []).append(o)
    result: dict[str, Difference] = {}
    with small_linalg(feature_width(v for s in (a, b, ref) for v in s.arrays.values())):
        for cls, outs in by_metric.items():
            result.update(_metric_differences(cls, outs, a, b, ref, config, reps, seed, paired, ctx, memo, params))
    return result


def _metric_differences(cls: type[Metric], outs: list[str], a: Side, b: Side, ref: Side, config: MetricConfig,
                        reps: int, seed: int, paired: bool, ctx: dict, memo: dict | None,
                        params: Mapping[str, object] | None) -> dict[str, Difference]:
    """The differences of one metric's outputs (`differences`, one metric)."""
    metric = cls((params or {}).get(cls.name))
    direct = {o: direct_difference(metric, o, a.take(), b.take()) for o in outs if o in cls.direct_comparisons}
    outs = [o for o in outs if o not in direct]
    if not outs:
        return direct
    return {**direct, **_compared(metric, outs, a, b, ref, config, reps, seed, paired, ctx, memo)}


def _compared(metric: Metric, outs: list[str], a: Side, b: Side, ref: Side, config: MetricConfig, reps: int,
              seed: int, paired: bool, ctx: dict, memo: dict | None) -> dict[str, Difference]:
    """m(A) − m(B) of the outputs `outs` of one metric against the shared reference."""
    cls = type(metric)
    va, vb = (point_values(metric, s.take(), ref.take(), config, ctx) for s in (a, b))
    missing = [o for o in outs if o not in va or o not in vb]
    if missing:
        raise ConfigError(f"metric {cls.name!r} did not produce {', '.join(missing)} on these features")
    if not cls.bootstrap_sets:
        return {o: Difference(o, va[o], vb[o], va[o] - vb[o], va[o] - vb[o], va[o] - vb[o], 0.0, 0, EXACT)
                for o in outs}
    names = outs if _use_fast(cls, outs, (a, b, ref)) else list(cls.outputs)
    fast = _Fast(metric, config, memo if memo is not None else {}) if _use_fast(cls, names, (a, b, ref)) else None
    r = _replicates(metric, names, a, b, ref, config, ctx, reps, seed, paired, fast)
    return {o: _summarise(o, va[o], vb[o], r[:, names.index(o)], PAIRED if paired else INDEPENDENT) for o in outs}
