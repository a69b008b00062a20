"""95% bootstrap confidence intervals on cached features: resample rows of each set with a fixed seed.

`compute_with_ci(metric, inputs, config)` wraps any metric from outside: check the sample counts, take
the point value, then B = config.bootstrap replicates. Each replicate draws row indices with replacement
for every set in `metric.resample_sizes(inputs)` (the metric's `bootstrap_sets` that have rows; a set
given only as statistics, such as a reference-statistics file, cannot be resampled and stays fixed).
A paired metric shares one index across its sets. All draws come from one generator seeded with
(config.seed, 0xB007), in replicate order, so the indices do not depend on how replicates are computed:
`metric.replicates(inputs, draws, config)` may be a fast path (FD: genbench.metrics.functional.fd_fast)
as long as its values equal the full recomputation `point(inputs.subset(draw))`.

Resampling with replacement puts exact duplicates into every replicate, which shifts set-level metrics
systematically (FD and KID up, k-NN radii down, so precision/recall down). A plain percentile interval
then need not even contain the point estimate. genbench therefore reports the bias-corrected percentile
interval: the replicates' 2.5th and 97.5th percentiles shifted by the bootstrap bias estimate
b = mean(replicates) - point, i.e. [q2.5 - b, q97.5 - b]; std is the replicates' standard deviation.
The raw percentiles and b are kept in the value's details. An output with a domain (`Metric.domains`:
a fraction in [0, 1], a distance >= 0) has its interval cut to that domain, since the shift by b can carry
a bound past it (coverage near 1: an upper bound of 1.057); the uncut bounds stay in the details. Costs
no network pass: only the metric's maths is repeated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from genbench.errors import NotEnoughSamplesError
from genbench.numerics import feature_width, small_linalg
from genbench.metrics.values import MetricConfig, MetricInputs, MetricValue, as_value


class Bootstrappable(Protocol):
    """What the wrapper needs of a metric (genbench.metrics.base.Metric provides all of it)."""

    paired: bool

    def check_samples(self, inputs: MetricInputs) -> None: ...

    def point(self, inputs: MetricInputs, config: MetricConfig) -> Mapping[str, Any]: ...

    def resample_sizes(self, inputs: MetricInputs) -> dict[str, int]: ...

    def replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                   config: MetricConfig) -> list[dict[str, float]]: ...


def compute_with_ci(metric: Bootstrappable, inputs: MetricInputs, config: MetricConfig,
                    on_replicate: Callable[[], None] | None = None) -> dict[str, MetricValue]:
    """The metric's point values, with bootstrap std and 95% CI when config.bootstrap > 0.

    on_replicate (a progress bar's update) is called once per replicate, as the metric consumes its draw.
    """
    metric.check_samples(inputs)
    keys = [k for k in getattr(metric, "needs", ()) if inputs.has(k)]
    with small_linalg(feature_width(inputs.get(k) for k in keys)):  # small features: one thread, see numerics
        return _compute(metric, inputs, config, on_replicate)


def _compute(metric: Bootstrappable, inputs: MetricInputs, config: MetricConfig,
             on_replicate: Callable[[], None] | None) -> dict[str, MetricValue]:
    point = {k: as_value(v) for k, v in metric.point(inputs, config).items()}
    sizes = metric.resample_sizes(inputs)
    if config.bootstrap <= 0 or not sizes:
        return point
    rng = np.random.default_rng([config.seed, 0xB007])
    draws = _Draws([draw_indices(rng, sizes, metric.paired) for _ in range(config.bootstrap)], on_replicate)
    try:
        reps = metric.replicates(inputs, draws, config.with_(bootstrap=0))
    except IntervalUnavailable as e:  # bounded work: no interval rather than B full recomputations
        return {k: MetricValue(v.value, v.std, v.ci95, dict(v.details, ci_skipped=str(e))) for k, v in point.items()}
    return summarise(point, reps, config.bootstrap, sizes, getattr(metric, "domains", {}))


class IntervalUnavailable(Exception):
    """Raised by a metric's `replicates` when its interval would cost many times its point value on these
    inputs (the message says why); the values are then reported without an interval, with that reason."""


class _Draws(list):
    """The replicates' draws. Iterating reports each draw once, after it was first consumed (replicates run
    in order); indexing reports nothing, so a fast path may look at draws[0] before it starts."""

    def __init__(self, draws: list[dict[str, np.ndarray]], tick: Callable[[], None] | None) -> None:
        super().__init__(draws)
        self._tick, self._done = tick, 0

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for i, d in enumerate(super().__iter__()):
            yield d
            if self._tick is not None and i >= self._done:
                self._done = i + 1
                self._tick()


def draw_indices(rng: np.random.Generator, sizes: dict[str, int], paired: bool) -> dict[str, np.ndarray]:
    """One replicate's row indices per set; a paired metric resamples one index shared by all its sets."""
    if not paired:
        return {s: rng.integers(0, n, size=n) for s, n in sizes.items()}
    if len(set(sizes.values())) > 1:
        raise NotEnoughSamplesError(f"paired bootstrap needs sets of equal length; got {sizes}")
    n = next(iter(sizes.values()))
    shared = rng.integers(0, n, size=n)  # [n] int64
    return {s: shared for s in sizes}


def summarise(point: dict[str, MetricValue], reps: Sequence[Mapping[str, float]], b_total: int,
              sizes: Mapping[str, int], domains: Mapping[str, tuple[float, float]] | None = None
              ) -> dict[str, MetricValue]:
    """Attach std and the bias-corrected interval to each point value that has >= 2 finite replicates; an
    output with a domain (Metric.domains, e.g. [0, 1] for a fraction) has its interval kept inside it."""
    out = {}
    for k, v in point.items():
        r = np.asarray([rep[k] for rep in reps if k in rep], dtype=np.float64)  # [B]
        r = r[np.isfinite(r)]
        out[k] = v if len(r) < 2 else _interval(v, r, b_total, sorted(sizes), (domains or {}).get(k))
    return out


@dataclass(frozen=True)
class Interval:
    """The bias-corrected 95% percentile interval of a point value from its bootstrap replicates."""

    lo: float
    hi: float
    bias: float  # mean(replicates) - point
    std: float  # of the replicates (ddof 1)
    raw: tuple[float, float]  # the replicates' 2.5th and 97.5th percentiles


def bias_corrected(point: float, reps: np.ndarray) -> Interval:
    """The one interval summariser (metric intervals and paired differences): finite replicates `reps`
    [B >= 2] float64 -> percentiles shifted by the bootstrap bias estimate."""
    lo, hi = np.percentile(reps, [2.5, 97.5])
    bias = float(reps.mean() - point)
    return Interval(float(lo) - bias, float(hi) - bias, bias, float(reps.std(ddof=1)), (float(lo), float(hi)))


def _interval(v: MetricValue, reps: np.ndarray, b_total: int, sets: list[str],
              domain: tuple[float, float] | None = None) -> MetricValue:
    """A metric value with its bias-corrected interval from finite replicates `reps` [B] float64, cut to the
    output's domain where it has one (the bias shift can carry a bound past 1 or below 0)."""
    iv = bias_corrected(v.value, reps)
    std = v.std if v.std is not None else iv.std
    details = dict(v.details, bootstrap=b_total, bootstrap_std=iv.std, bootstrap_bias=iv.bias,
                   bootstrap_sets=sets, ci_method="bootstrap percentile, bias-corrected",
                   raw_percentile_ci=list(iv.raw))
    lo, hi = iv.lo, iv.hi
    if domain is not None and (lo < domain[0] or hi > domain[1]):
        lo, hi = min(max(lo, domain[0]), domain[1]), max(min(hi, domain[1]), domain[0])
        details.update(ci_method=details["ci_method"] + ", cut to the metric's domain", domain=list(domain),
                       uncut_ci=[iv.lo, iv.hi])
    return MetricValue(v.value, std, (lo, hi), details)
