"""Metrics: pure maths in functional.py, one small file per metric family registering a Metric."""
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue

__all__ = ["METRICS", "Metric", "MetricConfig", "MetricInputs", "MetricValue", "load_all"]


def load_all() -> None:
    """Import every metric module so that each registers itself (one place lists them)."""
    from genbench.metrics import _all  # noqa: F401
