"""95% bootstrap confidence intervals on cached features: resample rows of each set with a fixed seed.

Resampling with replacement puts exact duplicates into every replicate, which shifts set-level metrics
systematically (FD and KID up, k-NN radii down, so precision/recall down). A plain percentile interval
then need not even contain the point estimate. genbench therefore reports the bias-corrected percentile
interval: the replicates' 2.5th and 97.5th percentiles shifted by the bootstrap bias estimate
b = mean(replicates) - point, i.e. [q2.5 - b, q97.5 - b]; std is the replicates' standard deviation.
The raw percentiles and b are kept in the value's details. Costs no network pass: only the metric's
maths is repeated.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from genbench.errors import NotEnoughSamplesError
from genbench.metrics.base import MetricConfig, MetricInputs, MetricValue

if TYPE_CHECKING:
    from genbench.metrics.base import Metric


def _set_sizes(inputs: MetricInputs, sets: tuple[str, ...]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    from genbench.metrics.base import SET_LEVEL

    for key in inputs.keys():
        s, _, what = key.partition(".")
        if what in SET_LEVEL:
            continue  # a set known only by its statistics (a reference file) is held fixed
        if s in sets and s not in sizes:
            sizes[s] = len(inputs.get(key))
    return sizes


def _draw(rng: np.random.Generator, sizes: dict[str, int], paired: bool) -> dict[str, np.ndarray]:
    """One replicate's row indices per set; a paired metric resamples one index shared by all its sets."""
    if not paired:
        return {s: rng.integers(0, n, size=n) for s, n in sizes.items()}
    if len(set(sizes.values())) > 1:
        raise NotEnoughSamplesError(f"paired bootstrap needs sets of equal length; got {sizes}")
    n = next(iter(sizes.values()))
    shared = rng.integers(0, n, size=n)  # [n] int64
    return {s: shared for s in sizes}


def bootstrap_values(metric: "Metric", inputs: MetricInputs, config: MetricConfig,
                     point: dict[str, MetricValue]) -> dict[str, MetricValue]:
    sizes = _set_sizes(inputs, metric.bootstrap_sets)
    rng = np.random.default_rng([config.seed, 0xB007])
    reps: dict[str, list[float]] = {k: [] for k in point}
    inner = config.with_(bootstrap=0)
    for _ in range(config.bootstrap):
        index = _draw(rng, sizes, metric.paired)
        vals = metric.point(inputs.subset(index), inner)
        for k, v in vals.items():
            if k in reps:
                reps[k].append(float(v.value if isinstance(v, MetricValue) else v))
    out = {}
    for k, v in point.items():
        r = np.asarray(reps[k], dtype=np.float64)
        r = r[np.isfinite(r)]
        if len(r) < 2:
            out[k] = v
            continue
        out[k] = _interval(v, r, config.bootstrap)
    return out


def _interval(v: MetricValue, reps: np.ndarray, b_total: int) -> MetricValue:
    """Bias-corrected percentile interval from finite replicates `reps` [B] float64."""
    lo, hi = np.percentile(reps, [2.5, 97.5])
    bias = float(reps.mean() - v.value)
    std = v.std if v.std is not None else float(reps.std(ddof=1))
    details = dict(v.details, bootstrap=b_total, bootstrap_std=float(reps.std(ddof=1)), bootstrap_bias=bias,
                   ci_method="bootstrap percentile, bias-corrected", raw_percentile_ci=[float(lo), float(hi)])
    return MetricValue(v.value, std, (float(lo) - bias, float(hi) - bias), details)
