"""Tiled nearest-neighbour work gives the same numbers whatever the tile size (7, 64, 100000)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genbench.metrics import MetricConfig, MetricInputs, functional as fn, load_all, METRICS
from genbench.metrics.knn import Tiling, count_pairs_below, knn_radii, nearest_distance

TILES = (7, 64, 100_000)


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    real = rng.standard_normal((230, 12))  # [230, 12] float64
    fake = rng.standard_normal((190, 12)) * 1.1 + 0.1
    fake[:20] = fake[20:40]  # exact duplicates
    train = np.concatenate([real[:50], rng.standard_normal((100, 12))])
    return real, fake, train


def _dense(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sqrt(((x[:, None] - y[None]) ** 2).sum(-1))  # [N, M] reference for small sets


def test_knn_radii_match_dense_sort(sets):
    real = sets[0]
    dense = np.sort(_dense(real, real), axis=1)  # column 0 is the point itself
    for tile in TILES:
        radii = knn_radii(Tiling(tile).tensor(real), (3, 5), tile)
        np.testing.assert_allclose(radii[3].numpy(), dense[:, 3], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(radii[5].numpy(), dense[:, 5], rtol=1e-10, atol=1e-10)


def test_nearest_and_pair_counts_match_dense(sets):
    real, fake, _ = sets
    d = _dense(fake, fake)
    np.fill_diagonal(d, np.inf)
    t = float(np.percentile(d.min(1), 20))
    for tile in TILES:
        x = Tiling(tile).tensor(fake)
        np.testing.assert_allclose(nearest_distance(x, None, tile).numpy(), d.min(1), atol=1e-6)  # duplicates: ~1e-8
        assert count_pairs_below(x, t, tile) == int((d[np.triu_indices(len(d), 1)] < t).sum())
        cross = nearest_distance(x, Tiling(tile).tensor(real), tile).numpy()
        np.testing.assert_allclose(cross, _dense(fake, real).min(1), atol=1e-10)


def test_metric_values_identical_across_tile_sizes(sets):
    load_all()
    real, fake, train = sets
    inputs = MetricInputs({"fake.embedding": fake, "real.embedding": real, "train.embedding": train,
                           "fake.clip": fake, "real.clip": real})
    results = []
    for tile in TILES:
        cfg = MetricConfig(bootstrap=0, tile_size=tile)
        row = {}
        for name in ("pr", "dc", "duplicates", "copying", "cmmd"):
            row.update({k: v.value for k, v in METRICS.get(name)().compute(inputs, cfg).items()})
        results.append(row)
    assert results[0].keys() == results[1].keys() == results[2].keys()
    for key in results[0]:
        assert results[0][key] == pytest.approx(results[1][key], rel=1e-12, abs=1e-15), key
        assert results[0][key] == pytest.approx(results[2][key], rel=1e-12, abs=1e-15), key


def test_prdc_shared_pass_equals_separate_metrics(sets):
    real, fake, _ = sets
    for tile in TILES:
        tiling = Tiling(tile)
        both = fn.prdc(real, fake, 3, 5, tiling)
        assert (both["precision"], both["recall"]) == fn.precision_recall(real, fake, 3, tiling)
        assert (both["density"], both["coverage"]) == fn.density_coverage(real, fake, 5, tiling)


def test_float32_distances_close_to_float64(sets):
    real, fake, _ = sets
    p64 = fn.prdc(real, fake, 3, 5, Tiling(64))
    p32 = fn.prdc(real, fake, 3, 5, Tiling(64, torch.float32))
    for k in p64:
        assert abs(p64[k] - p32[k]) <= 0.02


def test_float32_rows_upcast_per_tile_give_the_same_bits_as_a_float64_copy(sets):
    """Tiling.rows keeps float32 features (half the memory); each tile's exact upcast = the whole copy's."""
    from genbench.metrics.knn import manifold_pass

    real, fake = (a.astype(np.float32) for a in sets[:2])
    for tile in TILES:
        t = Tiling(tile)
        stored, copied = t.rows(real), t.tensor(real)
        assert stored.dtype == torch.float32 and copied.dtype == torch.float64
        a, b = knn_radii(stored, (3, 5), tile, torch.float64), knn_radii(copied, (3, 5), tile)
        for k in (3, 5):
            assert a[k].dtype == torch.float64 and torch.equal(a[k], b[k])
        m1 = manifold_pass(stored, t.rows(fake), tile, real_radii_le=a[3], real_radii_lt=a[5], nearest=True,
                           dtype=torch.float64)
        m2 = manifold_pass(copied, t.tensor(fake), tile, real_radii_le=a[3], real_radii_lt=a[5], nearest=True)
        assert torch.equal(m1.fake_in_real, m2.fake_in_real) and torch.equal(m1.fake_density, m2.fake_density)
        assert torch.equal(m1.real_nearest, m2.real_nearest)
        assert torch.equal(nearest_distance(stored, None, tile, torch.float64), nearest_distance(copied, None, tile))
    assert Tiling(dtype=torch.float32).rows(real).dtype == torch.float32  # float32 distances: as before
    assert Tiling().rows(sets[0]).dtype == torch.float64  # float64 input: as before
