"""Kernel and embedding metrics: KID, CMMD, Vendi score, CLIP score.

- KID (Bińkowski et al. 2018): unbiased MMD² with k(x,y) = (xᵀy/d + 1)³ over seeded subsets; the
  estimator is torch-fidelity's `metric_kid.mmd2(..., mmd_est="unbiased")` (within-set sums exclude the
  diagonal, the cross term keeps it and divides by m²); std over subsets with ddof=0 like torch-fidelity.
  Two numerics per subset, `precision`: "float32" (`kid`'s default) is torch-fidelity's, clean-fid's
  (`kernel_distance`) and the original code's of Bińkowski et al.: rows cast to float32, kernels in
  float32, and torch-fidelity's sums in float32 (each within-set kernel's row sums less its diagonal, then
  summed; the cross kernel's column sums, then summed), so one subset's MMD² equals torch-fidelity's bit for
  bit on the same rows. "float64" (`kd`'s default, genbench's own) computes kernels and sums in float64.
  Subset means are float64 in both. One kernel buffer per call, filled in place.
- CMMD (Jayasumana et al. 2024): 1000 × MMD² with a Gaussian kernel exp(−‖x−y‖²/(2σ²)), σ = 10.
  `cmmd` (the default) is the biased minimum-variance estimator of the authors' code
  (google-research/google-research `cmmd/distance.py`, `mmd`): the means of all n², m² and n·m kernel
  values, diagonals included; published CMMD numbers come from it. `cmmd_unbiased` leaves the
  diagonals out of the within-set means (n(n−1), m(m−1)). They differ by
  1000·[(1−k̄xx)/n + (1−k̄yy)/m] (k̄ the off-diagonal means): 14% at n = 600, 72% at n = 50. Sums are
  tiled (genbench.metrics.knn.kernel_sum), so no n × n matrix is held.
- Vendi (Friedman & Dieng 2023): exp(−Σ λ log λ), λ the eigenvalues of K/n, K the cosine-similarity
  kernel. With unit rows X̂ [n, d], K/n = X̂X̂ᵀ/n and X̂ᵀX̂/n share their non-zero eigenvalues, so the
  smaller of the two Gram matrices is decomposed (same value, the reference `vendi_score` uses n × n).
- CLIP score: torchmetrics' `clip_score` formula 100·cos(image, text); genbench clamps each image's
  score at 0 before averaging (PROTOCOLS.md), torchmetrics clamps the mean. Identical whenever no
  cosine is negative. `clipscore_hessel` uses 2.5·max(cos, 0) (Hessel et al. 2021).
"""
from __future__ import annotations

import numpy as np
import torch

from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics.functional.kd_counts import poly_kernel, precision_dtype, subset_rows
from genbench.metrics.functional.kd_counts import subset_size as subset_size_of
from genbench.metrics.knn import Tiling, kernel_sum


def _rows(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ConfigError(f"{name}: expected a 2-D [N, D] array, got shape {a.shape}")
    return a


def _matrix(x: np.ndarray, name: str) -> np.ndarray:
    """x as a 2-D [N, D] array in its own dtype (subsets are cast row by row, not the whole set)."""
    a = np.asarray(x)
    if a.ndim != 2:
        raise ConfigError(f"{name}: expected a 2-D [N, D] array, got shape {a.shape}")
    return a


def _mmd2_float32(x: np.ndarray, y: np.ndarray, buf: np.ndarray) -> np.float32:
    """torch-fidelity's unbiased `mmd2` of float32 rows x, y [m, D]: its float32 sums in its order."""
    m = len(x)
    kxx = poly_kernel(x, x, buf)  # [m, m]
    sxx = (kxx.sum(axis=1) - np.diagonal(kxx)).sum()
    kyy = poly_kernel(y, y, buf)
    syy = (kyy.sum(axis=1) - np.diagonal(kyy)).sum()
    sxy = poly_kernel(x, y, buf).sum(axis=0).sum()
    return (sxx + syy) / (m * (m - 1)) - 2 * sxy / (m * m)


def _mmd2_float64(x: np.ndarray, y: np.ndarray, buf: np.ndarray) -> np.float64:
    """genbench's float64 unbiased MMD² of float64 rows x, y [m, D]: whole-matrix sums less the traces."""
    m = len(x)
    kxx = poly_kernel(x, x, buf)  # [m, m]
    sxx, txx = kxx.sum(), np.trace(kxx)
    kyy = poly_kernel(y, y, buf)
    syy, tyy = kyy.sum(), np.trace(kyy)
    sxy = poly_kernel(x, y, buf).sum()
    return (sxx - txx + syy - tyy) / (m * (m - 1)) - 2.0 * sxy / (m * m)


def _subset_mmd2(x: np.ndarray, y: np.ndarray, buf: np.ndarray) -> float:
    """One subset's unbiased MMD² of rows x, y [m, D] in buf's dtype (buf: [m, m], the kernel buffer)."""
    return float((_mmd2_float32 if buf.dtype == np.float32 else _mmd2_float64)(x, y, buf))


def mmd2_unbiased_poly(x: np.ndarray, y: np.ndarray, precision: str = "float64") -> float:
    """KID's unbiased MMD² between equal-size sets x, y [m, D] with the cubic polynomial kernel, kernels and
    sums in `precision` ("float32": torch-fidelity's numerics; "float64": genbench's; module docstring)."""
    dtype = precision_dtype(precision)
    return _subset_mmd2(np.asarray(x, dtype), np.asarray(y, dtype), np.empty((len(x), len(x)), dtype))


def _gather(a: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a[rows] in out's dtype, into out [m, D] when a already has it (no fresh [m, D] array per subset)."""
    if a.dtype != out.dtype:
        return a[rows].astype(out.dtype)
    return np.take(a, rows, axis=0, out=out, mode="clip")  # rows are in range; "clip" writes out unbuffered


def kernel_inception_distance(fake: np.ndarray, real: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0, precision: str = "float64") -> tuple[float, float, int]:
    """(mean, std, m): MMD² over `subsets` random subsets of size m = min(subset_size, N_fake, N_real), each in
    `precision`; mean and std over subsets in float64."""
    dtype = precision_dtype(precision)
    x, y = _matrix(fake, "fake"), _matrix(real, "real")
    m = subset_size_of(len(x), len(y), subset_size)
    xs, ys, buf = np.empty((m, x.shape[1]), dtype), np.empty((m, y.shape[1]), dtype), np.empty((m, m), dtype)
    vals = np.array([_subset_mmd2(_gather(x, i, xs), _gather(y, j, ys), buf)
                     for i, j in subset_rows(len(x), len(y), subsets, m, seed)])  # [subsets] float64
    return float(vals.mean()), float(vals.std()), m


CMMD_ESTIMATORS = ("biased", "unbiased")


def mmd2_gaussian(x: np.ndarray, y: np.ndarray, sigma: float, tiling: Tiling = Tiling(),
                  estimator: str = "biased") -> float:
    """MMD² with exp(−‖x−y‖²/(2σ²)); sets may differ in size; tiled kernel sums.

    biased: mean over all pairs of each block (k(x, x) = 1 on the diagonals), as cmmd/distance.py.
    unbiased: within-set means over i != j only.
    """
    if sigma <= 0:
        raise ConfigError(f"cmmd sigma: must be positive, got {sigma}")
    if estimator not in CMMD_ESTIMATORS:
        raise ConfigError(f"cmmd estimator: unknown {estimator!r}; choose one of {', '.join(CMMD_ESTIMATORS)}")
    tx, ty = tiling.tensor(x), tiling.tensor(y)
    n, m = len(tx), len(ty)
    if n < 2 or m < 2:
        raise NotEnoughSamplesError(f"cmmd: needs at least 2 rows per set; got fake={n}, real={m}")
    gamma = 1.0 / (2.0 * sigma * sigma)

    def k(d2: torch.Tensor) -> torch.Tensor:
        return torch.exp(-gamma * d2)

    sxx, syy = kernel_sum(tx, None, k, tiling.tile), kernel_sum(ty, None, k, tiling.tile)  # off-diagonal
    if estimator == "biased":
        kxx, kyy = (sxx + n) / (n * n), (syy + m) / (m * m)  # the diagonal adds k(x, x) = 1 per row
    else:
        kxx, kyy = sxx / (n * (n - 1)), syy / (m * (m - 1))
    return kxx + kyy - 2.0 * kernel_sum(tx, ty, k, tiling.tile) / (n * m)


def mmd2_unbiased_gaussian(x: np.ndarray, y: np.ndarray, sigma: float, tiling: Tiling = Tiling()) -> float:
    """Unbiased MMD² with exp(−‖x−y‖²/(2σ²)) (within-set sums leave the diagonal out)."""
    return mmd2_gaussian(x, y, sigma, tiling, "unbiased")


def cmmd(fake_clip: np.ndarray, real_clip: np.ndarray, sigma: float = 10.0, tiling: Tiling = Tiling(),
         estimator: str = "biased") -> float:
    """CMMD = 1000 × Gaussian MMD² between CLIP image embeddings; biased estimator by default."""
    return 1000.0 * mmd2_gaussian(fake_clip, real_clip, sigma, tiling, estimator)


def _unit_rows(x: np.ndarray, name: str) -> np.ndarray:
    a = _rows(x, name)
    norms = np.linalg.norm(a, axis=1, keepdims=True)  # [N, 1]
    if np.any(norms == 0):
        raise ConfigError(f"{name}: a row has zero norm; cosine similarity is undefined")
    return a / norms


def vendi_score(features: np.ndarray) -> float:
    """exp(−Σ λ log λ) over the positive eigenvalues of K/n, K = cosine similarity of the rows."""
    x = _unit_rows(features, "features")  # [n, d]
    n, d = x.shape
    gram = x @ x.T if n <= d else x.T @ x  # [min(n,d), min(n,d)]
    lam = np.linalg.eigvalsh(gram / n)
    lam = lam[lam > 0]
    return float(np.exp(-(lam * np.log(lam)).sum()))


def vendi_score_direct(features: np.ndarray) -> float:
    """Reference form: eigenvalues of the n × n kernel K/n itself (for tests and small n)."""
    x = _unit_rows(features, "features")
    lam = np.linalg.eigvalsh(x @ x.T / len(x))
    lam = lam[lam > 0]
    return float(np.exp(-(lam * np.log(lam)).sum()))


def clip_cosines(image: np.ndarray, text: np.ndarray) -> np.ndarray:
    """[N] cosine between row-aligned image and text embeddings (re-normalised in float64)."""
    a, b = _unit_rows(image, "fake.clip"), _unit_rows(text, "fake.text")
    if a.shape != b.shape:
        raise ConfigError(f"clip score: image embeddings {a.shape} and text embeddings {b.shape} differ")
    return (a * b).sum(axis=1)


def clip_score(image: np.ndarray, text: np.ndarray, scale: float = 100.0) -> float:
    """mean_i scale · max(cos(image_i, text_i), 0); scale 100 (torchmetrics) or 2.5 (Hessel et al.)."""
    return float((scale * np.clip(clip_cosines(image, text), 0.0, None)).mean())
