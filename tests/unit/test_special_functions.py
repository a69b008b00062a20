"""The class tests call scipy.special directly (importing scipy.stats costs 0.4 s of every command that
scores classes); these check that each call gives scipy.stats' own value bit for bit."""
import numpy as np
import pytest
from scipy.stats import beta, binom, chi2

from genbench.metrics.functional import class_shares, modes


@pytest.mark.parametrize("n", [1, 10, 359, 1000, 50_000])
def test_binomial_sf_equals_scipy_stats(n):
    rng = np.random.default_rng(n)
    k = rng.integers(-2, n + 2, 3000).astype(np.float64)  # [3000] including k < 0 and k >= n
    p = np.concatenate([rng.uniform(0, 1, 2000), rng.uniform(0, 1e-3, 990), [0, 1, 0, 1, 0.5] * 2])
    assert np.array_equal(modes.binomial_sf(k, n, p), binom.sf(k, n, p))


def test_g_test_p_equals_scipy_stats():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = rng.integers(0, 200, 10), rng.integers(0, 200, 10)
        g, p = modes.g_test_p(a, b)
        table = np.stack([a, b])
        df = int((table.sum(axis=0) > 0).sum()) - 1
        assert p == chi2.sf(g, df) or (df < 1 and p == 1.0)


def test_share_change_interval_equals_beta_ppf():
    rng = np.random.default_rng(1)
    for _ in range(300):
        a, b = rng.integers(0, 150, 10).astype(float), rng.integers(0, 150, 10).astype(float)
        a[rng.integers(0, 10)] = 0.0
        got = class_shares.share_change(a, b)
        seen = np.flatnonzero(a + b > 0)
        ak, bk, level = a[seen], b[seen], class_shares.ALPHA / len(seen)
        with np.errstate(all="ignore"):
            lo = np.where(ak > 0, beta.ppf(level / 2, ak, bk + 1), 0.0)
            hi = np.where(bk > 0, beta.ppf(1 - level / 2, ak + 1, np.maximum(bk, 1e-300)), 1.0)
        assert got.lo == float(class_shares._ratio(lo, a.sum(), b.sum()).min() - 1.0)
        assert got.hi == float(class_shares._ratio(hi, a.sum(), b.sum()).min() - 1.0)
