"""Metrics: one small file per metric family, each registering a Metric class by its `name`.

Holds: `base` (Metric, MetricConfig, MetricInputs, the METRICS registry), `bootstrap` (the one interval
summariser), `knn` (tiled nearest-neighbour passes), one file per metric (found by `_all`, listed nowhere),
and `functional/` (the pure maths).
May import: the core and `data` (mode layouts of the built-in datasets); never sets, features or anything
above them.
"""
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue, NoParams
from genbench.metrics.bootstrap import compute_with_ci

__all__ = ["METRICS", "Metric", "MetricConfig", "MetricInputs", "MetricValue", "NoParams", "compute_with_ci",
           "load_all"]


def load_all() -> None:
    """Import every metric module so that each registers itself (genbench.metrics._all discovers them)."""
    from genbench.metrics import _all  # noqa: F401
