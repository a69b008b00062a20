"""FD from statistics with a cached reference root, and the exact fast bootstrap replicate.

Oracles: genbench's eigh-based FD (itself checked against torch-fidelity and pytorch-fid in
tests/parity), scipy.linalg.sqrtm as pytorch-fid computes it (`fid_score.calculate_frechet_distance`),
and the naive bootstrap (np.cov of the resampled rows, full FD) on the same indices, for both uses of the
one engine: the reference held fixed, and the reference resampled too (the paired comparison)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from genbench.errors import ConfigError
from genbench.metrics import METRICS, Metric, MetricConfig, MetricInputs, functional as fn, load_all
from genbench.metrics.bootstrap import draw_indices
from genbench.metrics.functional.counts import Pool, Resample, fd as counts_fd
from genbench.metrics.functional.fd_fast import (CountedRows, FixedReference, GeneratedResampler, fd_of_counts,
                                                 frechet_distance_rooted, psd_sqrt)

load_all()


def _sets(d: int = 10, nf: int = 250, nr: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fake = rng.standard_normal((nf, d)) @ rng.standard_normal((d, d)) * 0.4 + 1.0  # [nf, d]
    real = rng.standard_normal((nr, d)) * np.linspace(0.5, 2.0, d) + 0.8  # [nr, d]
    return fake, real


def _sqrtm_fd(mu1, s1, mu2, s2) -> float:
    covmean = linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_rooted_fd_equals_eigh_fd_and_sqrtm():
    fake, real = _sets()
    (mf, sf), (mr, sr) = fn.feature_stats(fake), fn.feature_stats(real)
    ours = frechet_distance_rooted(mf, sf, mr, sr, psd_sqrt(sr))
    assert ours == pytest.approx(fn.frechet_distance(mf, sf, mr, sr), rel=1e-9)
    assert ours == pytest.approx(_sqrtm_fd(mf, sf, mr, sr), rel=1e-9)


def test_psd_sqrt_squares_back():
    _, real = _sets(d=8)
    s = np.cov(real, rowvar=False)
    r = psd_sqrt(s)
    np.testing.assert_allclose(r @ r, s, rtol=0, atol=1e-12 * np.abs(s).max())
    np.testing.assert_array_equal(r, r.T)


def test_fast_replicates_equal_naive_bootstrap_on_same_indices():
    fake, real = _sets()
    mr, sr = fn.feature_stats(real)
    res = GeneratedResampler(fake, FixedReference.of(mr, sr))
    rng = np.random.default_rng(7)
    for _ in range(10):
        idx = rng.integers(0, len(fake), len(fake))
        naive = fn.frechet_distance(*fn.feature_stats(fake[idx]), mr, sr)
        assert res.value(idx) == pytest.approx(naive, rel=1e-9)


def _counts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, n, n)
    return idx, np.bincount(idx, minlength=n).astype(np.float64)


@pytest.mark.parametrize("d,nf,nr", [(10, 250, 300), (40, 120, 90)])
def test_engine_equals_full_recomputation_for_both_uses(d, nf, nr):
    fake, real = _sets(d=d, nf=nf, nr=nr, seed=d)
    frows, rrows = CountedRows(fake), CountedRows(real)
    fixed = FixedReference.of(*fn.feature_stats(real))
    y = frows.x0 @ fixed.root  # the fixed reference's basis, once
    rng = np.random.default_rng(11)
    for _ in range(5):
        (i, c), (j, cr) = _counts(rng, nf), _counts(rng, nr)
        stats_f = fn.feature_stats(fake[i])  # np.cov of the materialised resample
        want_fixed = fn.frechet_distance(*stats_f, *fn.feature_stats(real))
        assert fd_of_counts(frows, c, fixed, y) == pytest.approx(want_fixed, rel=1e-9)
        assert fd_of_counts(frows, c, fixed) == pytest.approx(want_fixed, rel=1e-9)  # Σf* then R Σf* R
        want_both = fn.frechet_distance(*stats_f, *fn.feature_stats(real[j]))
        assert fd_of_counts(frows, c, FixedReference.of_counts(rrows, cr)) == pytest.approx(want_both, rel=1e-9)
        assert counts_fd(Resample(Pool.of(fake), c), Resample(Pool.of(real), cr)) == pytest.approx(want_both,
                                                                                                     rel=1e-9)


def test_moments_from_counts_equal_np_cov():
    fake, _ = _sets(d=7, nf=60)
    rows, rng = CountedRows(fake), np.random.default_rng(3)
    i, c = _counts(rng, len(fake))
    mu, cov = rows.moments(c)
    np.testing.assert_allclose(mu, fake[i].mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(fake[i], rowvar=False), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(cov, cov.T)


def test_pool_reuses_the_last_reference_draw():
    _, real = _sets()
    pool, c = Pool.of(real), np.ones(len(real))
    first = pool.reference(c)
    assert pool.reference(c.copy()) is first
    c2 = c.copy()
    c2[:2] = (0.0, 2.0)
    assert pool.reference(c2) is not first


def test_fd_metric_fast_path_equals_default_replicates():
    fake, real = _sets(seed=3)
    m = METRICS.get("fd")()
    inputs = MetricInputs({"fake.embedding": fake, "real.embedding": real})
    draws = [draw_indices(np.random.default_rng(1), m.resample_sizes(inputs), False) for _ in range(5)]
    assert all(set(d) == {"fake"} for d in draws)  # the reference is held fixed
    fast, slow = m.replicates(inputs, draws, MetricConfig()), Metric.replicates(m, inputs, draws, MetricConfig())
    for f, s in zip(fast, slow):
        assert f["fd"] == pytest.approx(s["fd"], rel=1e-9)


def _stats_inputs(fake: np.ndarray, real: np.ndarray, root: bool) -> MetricInputs:
    mr, sr = fn.feature_stats(real)
    arrays = {"fake.embedding": fake, "real.mean": mr, "real.cov": sr, "real.n": len(real)}
    if root:
        arrays["real.cov_sqrt"] = psd_sqrt(sr)
    return MetricInputs(arrays)


@pytest.mark.parametrize("root", [True, False])
def test_fd_metric_from_reference_statistics_alone(root):
    fake, real = _sets(seed=4)
    cfg = MetricConfig(bootstrap=20, seed=2)
    m = METRICS.get("fd")()
    full = m.compute(MetricInputs({"fake.embedding": fake, "real.embedding": real}), cfg)["fd"]
    inputs = _stats_inputs(fake, real, root)
    assert m.available(inputs) is None
    stats = m.compute(inputs, cfg)["fd"]
    assert stats.value == pytest.approx(full.value, rel=1e-9)
    assert stats.ci95 == pytest.approx(full.ci95, rel=1e-9)  # same draws: only fake is resampled
    assert stats.details["n_real"] == len(real) and stats.details["bootstrap_sets"] == ["fake"]


def test_fd_metric_skips_without_reference_rows_or_statistics():
    fake, real = _sets()
    reason = METRICS.get("fd")().available(MetricInputs({"fake.embedding": fake, "real.mean": real.mean(0)}))
    assert reason is not None and "real.cov" in reason


def test_rooted_fd_refuses_mismatched_dimensions():
    fake, real = _sets(d=6)
    mr, sr = fn.feature_stats(real)
    with pytest.raises(ConfigError, match="dimensions disagree"):
        frechet_distance_rooted(np.zeros(5), np.eye(5), mr, sr, psd_sqrt(sr))


def _nuclear_fd(f: np.ndarray, r: np.ndarray) -> float:
    """FD of two row sets with tr((Σf Σr)^½) = ‖Af Arᵀ‖_* (Σ = AᵀA, A the centred rows / √(n−1)): singular
    values carry no square-rooted rounding noise in null directions, unlike any eigenvalue path."""
    af = (f - f.mean(axis=0)) / np.sqrt(len(f) - 1.0)  # [nf, D]
    ar = (r - r.mean(axis=0)) / np.sqrt(len(r) - 1.0)  # [nr, D]
    diff = f.mean(axis=0) - r.mean(axis=0)
    nuclear = np.linalg.svd(af @ ar.T, compute_uv=False).sum()
    return float(diff @ diff + (af * af).sum() + (ar * ar).sum() - 2.0 * nuclear)


def _singular_sets(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits-like features: 3 equal channels of 16 'pixels', 4 of them never lit, and dead units in a
    24-unit embedding (the ranks are 12 and 10, D = 48 and 24)."""
    rng = np.random.default_rng(seed)
    pix = rng.uniform(0, 1, (400, 16)) ** 2
    pix[:, :4] = 0.0
    emb = np.maximum(rng.standard_normal((300, 24)) @ rng.standard_normal((24, 24)), 0.0)
    emb[:, 10:] = 0.0
    return np.tile(pix, 3), emb


@pytest.mark.parametrize("space", [0, 1])
def test_resampled_reference_in_its_range_equals_nuclear_norm_oracle(space):
    fake_all, real_all = _singular_sets(0), _singular_sets(1)
    fake, real = fake_all[space][:250], real_all[space][:200]
    rrows = CountedRows(real)
    q = rrows.basis()
    assert q is not None and q.shape[1] == (12 if space == 0 else 10)
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-12)
    frows, rng = CountedRows(fake), np.random.default_rng(5)
    for _ in range(5):
        (i, c), (j, cr) = _counts(rng, len(fake)), _counts(rng, len(real))
        got = fd_of_counts(frows, c, FixedReference.of_counts(rrows, cr))
        assert got == pytest.approx(_nuclear_fd(fake[i], real[j]), rel=1e-11)


def test_full_rank_reference_has_no_basis_and_a_cholesky_factor():
    _, real = _sets(d=12, nr=200)
    rows = CountedRows(real)
    assert rows.basis() is None
    ref = FixedReference.of_counts(rows, np.ones(len(real)))
    assert ref.low is not None and ref.root is None
    np.testing.assert_allclose(ref.low @ ref.low.T, np.cov(real, rowvar=False), rtol=0, atol=1e-12)
