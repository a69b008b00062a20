"""Fréchet distance (Heusel et al. 2017), FD∞ (Chong & Forsyth 2020) and Inception Score (Salimans 2016).

FD matches torch-fidelity (`metric_fid.fid_statistics_to_metric`) and pytorch-fid
(`fid_score.calculate_frechet_distance`) to <= 1e-6 relative on the same features, but computes the trace
of (Σ₁Σ₂)^½ as Σ√λᵢ of the eigenvalues of the symmetric matrix √Σ₁ Σ₂ √Σ₁ (two `eigh` calls, no sqrtm,
no complex numbers), with negative rounding noise clipped to 0. IS matches torch-fidelity's
`metric_isc.isc_features_to_metric`: float64 softmax, splits at i*N//splits, std with ddof=0, and the
same shuffle (numpy RandomState(seed).permutation) when shuffling is on.
"""
from __future__ import annotations

import warnings

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError


def _f64(x: np.ndarray, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ConfigError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    return a


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] (N−1 normalisation), both float64."""
    x = _f64(features, "features", 2)  # [N, D] float64
    if len(x) < 2:
        raise NotEnoughSamplesError(f"features: covariance needs at least 2 rows, got {len(x)}")
    if len(x) < x.shape[1]:
        warnings.warn(f"FD: {len(x)} samples < feature dimension {x.shape[1]}: the covariance is singular "
                      "and FD is strongly biased; use more samples", stacklevel=3)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(sigma)  # w: [D], v: [D, D]
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((Σ₁Σ₂)^½) = Σ√λᵢ, λ = eigenvalues of √Σ₁ Σ₂ √Σ₁ (symmetric PSD), negatives clipped to 0."""
    root1 = _psd_sqrt(sigma1)  # [D, D]
    m = root1 @ sigma2 @ root1
    lam = np.linalg.eigvalsh((m + m.T) / 2.0)  # [D]
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr((Σ₁Σ₂)^½) in float64."""
    mu1, mu2 = _f64(mu1, "mu1", 1), _f64(mu2, "mu2", 1)
    sigma1, sigma2 = _f64(sigma1, "sigma1", 2), _f64(sigma2, "sigma2", 2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ConfigError(f"frechet_distance: shapes disagree: mu1 {mu1.shape}, mu2 {mu2.shape}, "
                          f"sigma1 {sigma1.shape}, sigma2 {sigma2.shape}")
    diff = mu1 - mu2
    tr = np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + tr)


def frechet_distance_features(fake: np.ndarray, real: np.ndarray) -> float:
    """FD between two feature sets [N1, D] and [N2, D]."""
    return frechet_distance(*feature_stats(fake), *feature_stats(real))


def fd_inf_sizes(n: int, points: int) -> np.ndarray:
    """`points` subset sizes from n/5 to n, linearly spaced in 1/N (Chong & Forsyth's fit variable)."""
    if points < 2:
        raise ConfigError(f"fd_inf_points: need at least 2 subset sizes, got {points}")
    inv = np.linspace(5.0 / n, 1.0 / n, points)
    return np.unique(np.rint(1.0 / inv).astype(np.int64))


def fd_infinity(fake: np.ndarray, real: np.ndarray, points: int = 5, seed: int = 0) -> dict:
    """FD∞: FD of seeded fake subsets of each size vs the full real set; linear fit FD = a + b/N; a."""
    fake = _f64(fake, "fake", 2)
    sizes = fd_inf_sizes(len(fake), points)
    mu2, sigma2 = feature_stats(real)
    rng = np.random.default_rng([seed, 0xFD])
    fds = []
    for n in sizes:
        sub = fake[rng.permutation(len(fake))[:n]]  # [n, D]
        fds.append(frechet_distance(*feature_stats(sub), mu2, sigma2))
    slope, intercept = np.polyfit(1.0 / sizes, np.asarray(fds), 1)
    return {"fd_inf": float(intercept), "slope": float(slope), "sizes": sizes.tolist(),
            "fd": [float(v) for v in fds]}


def inception_score(logits: np.ndarray, splits: int = 10, shuffle: bool = True,
                    seed: int = 0) -> tuple[float, float]:
    """(mean, std) of exp(E_x KL(p(y|x) ‖ p(y))) over `splits` chunks; torch-fidelity conventions."""
    x = _f64(logits, "logits", 2)  # [N, C] float64
    n = len(x)
    if n < splits:
        raise NotEnoughSamplesError(f"inception_score: {n} samples < is_splits={splits}")
    if shuffle:
        x = x[np.random.RandomState(seed).permutation(n)]
    log_p = x - x.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))  # log softmax [N, C]
    p = np.exp(log_p)
    scores = [_split_score(p[i * n // splits:(i + 1) * n // splits], log_p[i * n // splits:(i + 1) * n // splits])
              for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))


def _split_score(p: np.ndarray, log_p: np.ndarray) -> float:
    log_q = np.log(p.mean(axis=0, keepdims=True))  # [1, C] log p(y)
    return float(np.exp((p * (log_p - log_q)).sum(axis=1).mean()))
