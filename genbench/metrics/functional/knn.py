"""Nearest-neighbour metrics on features, all tiled (genbench.metrics.knn): no N × N matrix is held, and
float32 features are not copied to float64 as a whole (tiles are upcast exactly as they are used).

- Precision / recall (Kynkäänniemi et al. 2019), k = 3, membership with `<=` (ADM / StyleGAN code).
- Density / coverage (Naeem et al. 2020), k = 5, strict `<`, equal to `prdc.compute_prdc`.
- Duplicates and the birthday paradox (Arora & Zhang 2017): threshold t = 1st percentile (numpy linear
  interpolation) of real-to-nearest-other-real distances. duplicate_rate = fraction of fake samples whose
  nearest other fake sample is at distance < t; pair_rate p = fraction of the N(N−1)/2 fake pairs at
  distance < t (counted exactly, by tiles); P(a duplicate in a batch of s) = 1 − (1 − p)^(s(s−1)/2), which
  treats the pairs of a batch as independent.
- Copying: threshold = 1st percentile of train-to-nearest-other-train distances; copy_rate = fraction of
  fake samples whose nearest training sample is closer than it.
- C_T (Meehan et al. 2020) lives in functional.ct (the authors' in-cell conventions).
"""
from __future__ import annotations

import numpy as np

from genbench.metrics.knn import Tiling, count_pairs_below, knn_radii, manifold_pass, nearest_distance


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3,
                     tiling: Tiling = Tiling()) -> tuple[float, float]:
    """(precision, recall) with k-NN manifolds and `<=` membership."""
    r, f, dt = tiling.rows(real), tiling.rows(fake), tiling.dtype  # [N_r, D], [N_f, D] as stored
    rr, rf = knn_radii(r, (k,), tiling.tile, dt)[k], knn_radii(f, (k,), tiling.tile, dt)[k]
    c = manifold_pass(r, f, tiling.tile, real_radii_le=rr, fake_radii_le=rf, dtype=dt)
    return float(c.fake_in_real.double().mean()), float(c.real_in_fake.double().mean())


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5,
                     tiling: Tiling = Tiling()) -> tuple[float, float]:
    """(density, coverage) with k-NN balls around real samples and strict `<`."""
    r, f, dt = tiling.rows(real), tiling.rows(fake), tiling.dtype
    rr = knn_radii(r, (k,), tiling.tile, dt)[k]
    c = manifold_pass(r, f, tiling.tile, real_radii_lt=rr, nearest=True, dtype=dt)
    density = float(c.fake_density.double().sum()) / (k * len(f))
    return density, float((c.real_nearest < rr).double().mean())


def prdc(real: np.ndarray, fake: np.ndarray, pr_k: int = 3, dc_k: int = 5,
         tiling: Tiling = Tiling()) -> dict[str, float]:
    """All four with shared passes: one over real×real (both k), one fake×fake, one real×fake."""
    r, f, dt = tiling.rows(real), tiling.rows(fake), tiling.dtype
    rr = knn_radii(r, (pr_k, dc_k), tiling.tile, dt)
    rf = knn_radii(f, (pr_k,), tiling.tile, dt)[pr_k]
    c = manifold_pass(r, f, tiling.tile, real_radii_le=rr[pr_k], real_radii_lt=rr[dc_k],
                      fake_radii_le=rf, nearest=True, dtype=dt)
    return {"precision": float(c.fake_in_real.double().mean()),
            "recall": float(c.real_in_fake.double().mean()),
            "density": float(c.fake_density.double().sum()) / (dc_k * len(f)),
            "coverage": float((c.real_nearest < rr[dc_k]).double().mean())}


def nn_threshold(x: np.ndarray, percentile: float = 1.0, tiling: Tiling = Tiling()) -> float:
    """The given percentile of each row's distance to its nearest other row."""
    d = nearest_distance(tiling.tensor(x), None, tiling.tile)  # [N]
    return float(np.percentile(d.cpu().numpy(), percentile))


def birthday_probability(pair_rate: float, batch: int) -> float:
    """P(at least one duplicate pair in a batch of `batch` samples), pairs taken as independent."""
    return float(1.0 - (1.0 - pair_rate) ** (batch * (batch - 1) / 2.0))


def duplicates(fake: np.ndarray, real: np.ndarray, sizes: tuple[int, ...] = (16, 32, 64, 128),
               tiling: Tiling = Tiling()) -> dict:
    """duplicate_rate, pair_rate, threshold and P(duplicate | batch size s) for each s."""
    t = nn_threshold(real, 1.0, tiling)
    f = tiling.tensor(fake)
    n = len(f)
    rate = float((nearest_distance(f, None, tiling.tile) < t).double().mean())
    pair_rate = count_pairs_below(f, t, tiling.tile) / (n * (n - 1) / 2.0)
    return {"duplicate_rate": rate, "pair_rate": pair_rate, "threshold": t,
            "birthday": {str(s): birthday_probability(pair_rate, s) for s in sizes}}


def copy_rate(fake: np.ndarray, train: np.ndarray, tiling: Tiling = Tiling()) -> tuple[float, float]:
    """(copy_rate, threshold): fraction of fakes nearer to train than train's 1st-percentile NN distance."""
    flags, t = copy_flags(fake, train, tiling)
    return float(flags.mean()), t


def copy_flags(fake: np.ndarray, train: np.ndarray, tiling: Tiling = Tiling()) -> tuple[torch.Tensor, float]:
    """([N_fake] float64 1.0 where a fake lies nearer to train than the threshold, threshold): a row's flag
    does not depend on the other fakes, so a resample of the fakes takes its rows of these flags."""
    t = nn_threshold(train, 1.0, tiling)
    d = nearest_distance(tiling.tensor(fake), tiling.tensor(train), tiling.tile)
    return (d < t).double(), t
