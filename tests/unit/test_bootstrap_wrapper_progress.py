"""compute_with_ci reports one tick per replicate, on the generic path and on FD's fast path."""
from __future__ import annotations

import numpy as np

from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all


def _inputs(stats_ref: bool = False) -> MetricInputs:
    rng = np.random.default_rng(0)
    fake, real = rng.standard_normal((40, 4)), rng.standard_normal((50, 4))
    if not stats_ref:
        return MetricInputs({"fake.embedding": fake, "real.embedding": real})
    return MetricInputs({"fake.embedding": fake, "real.mean": real.mean(0), "real.cov": np.cov(real, rowvar=False),
                         "real.n": 50})  # a statistics reference: only the generated rows are resampled


def _ticks(name: str, b: int, stats_ref: bool = False) -> tuple[int, dict]:
    load_all()
    count = []
    out = compute_with_ci(METRICS.get(name)(), _inputs(stats_ref), MetricConfig(bootstrap=b),
                          lambda: count.append(1))
    return len(count), out


def test_generic_path_ticks_once_per_replicate() -> None:
    n, out = _ticks("kd", 5)
    assert n == 5 and out["kd"].ci95 is not None


def test_fd_fast_path_ticks_once_per_replicate_and_values_unchanged() -> None:
    for stats_ref in (False, True):  # reference as rows / as statistics: FD resamples the generated set only
        n, out = _ticks("fd", 7, stats_ref)
        assert n == 7
        plain = compute_with_ci(METRICS.get("fd")(), _inputs(stats_ref), MetricConfig(bootstrap=7))
        assert plain["fd"] == out["fd"] and out["fd"].details["bootstrap_sets"] == ["fake"]


def test_no_bootstrap_no_ticks() -> None:
    assert _ticks("fd", 0)[0] == 0
