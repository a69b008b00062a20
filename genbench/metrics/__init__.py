"""Metrics: pure maths in functional.py, one small file per metric family registering a Metric."""
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue, NoParams
from genbench.metrics.bootstrap import compute_with_ci

__all__ = ["METRICS", "Metric", "MetricConfig", "MetricInputs", "MetricValue", "NoParams", "compute_with_ci",
           "load_all"]


def load_all() -> None:
    """Import every metric module so that each registers itself (genbench.metrics._all discovers them)."""
    from genbench.metrics import _all  # noqa: F401
