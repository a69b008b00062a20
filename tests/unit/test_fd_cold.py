"""Cold FD from two covariances: one Cholesky + one eigvalsh equals the eigh path (the previous one)
within 1e-9 relative, on random, correlated, ReLU-like and near-singular covariances; the eigh path is
taken when either covariance is singular (N < D)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genbench.metrics.functional import fd as F


def _stats(n: int, d: int, seed: int, relu: bool = False, decay: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.geomspace(1.0, decay, d)  # [n, d]
    x = x @ (rng.standard_normal((d, d)) / np.sqrt(d) + np.eye(d))
    return F.feature_stats(np.maximum(x, 0.0) if relu else x)


def _fd(a, b, trace) -> float:
    (m1, s1), (m2, s2) = a, b
    return float((m1 - m2) @ (m1 - m2) + np.trace(s1) + np.trace(s2) - 2.0 * trace(s1, s2))


CASES = {"random": (400, 400, 40, False, 1.0), "relu": (500, 300, 48, True, 1.0),
         "spectrum 1e-3": (600, 600, 48, False, 1e-3), "near-singular N = D + 3": (43, 500, 40, False, 1.0),
         "relu near-singular": (60, 70, 48, True, 1e-2), "fake N < D": (30, 400, 40, False, 1.0),
         "real N < D": (400, 30, 40, False, 1.0), "both N < D": (20, 25, 40, False, 1.0)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cholesky_path_equals_eigh_path(case):
    n1, n2, d, relu, decay = CASES[case]
    a, b = _stats(n1, d, 1, relu, decay), _stats(n2, d, 2, relu, decay)
    ours, eigh = _fd(a, b, F.trace_sqrt_product), _fd(a, b, F.trace_sqrt_product_eigh)
    assert ours == pytest.approx(eigh, rel=1e-9)
    assert F.frechet_distance(*a, *b) == pytest.approx(ours, rel=1e-13)


@pytest.mark.parametrize("n1,n2,chol", [(400, 400, True), (30, 400, False), (400, 30, False)])
def test_singular_covariance_takes_the_eigh_path(n1, n2, chol):
    a, b = _stats(n1, 40, 1), _stats(n2, 40, 2)
    uses = F._cholesky(torch.from_numpy(a[1])) is not None and F._cholesky(torch.from_numpy(b[1])) is not None
    assert uses == chol
    if not chol:  # the fallback is today's eigh path, bit for bit
        assert F.trace_sqrt_product(a[1], b[1]) == F.trace_sqrt_product_eigh(a[1], b[1])


def test_equal_covariances_closed_form():
    m, s = _stats(300, 30, 5)
    assert F.trace_sqrt_product(s, s) == pytest.approx(np.trace(s), rel=1e-12)
    assert F.frechet_distance(m, s, m + 1.0, s) == pytest.approx(30.0, rel=1e-9)


def test_zero_covariance_is_handled():
    z = np.zeros((5, 5))
    assert F.trace_sqrt_product(z, np.eye(5)) == 0.0
