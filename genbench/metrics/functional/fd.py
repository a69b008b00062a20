"""Fréchet distance (Heusel et al. 2017), FD∞ (Chong & Forsyth 2020) and Inception Score (Salimans 2016).

FD matches torch-fidelity (`metric_fid.fid_statistics_to_metric`) and pytorch-fid
(`fid_score.calculate_frechet_distance`) to <= 1e-6 relative on the same features, but computes the trace
of (Σ₁Σ₂)^½ as Σ√λᵢ over the eigenvalues of a symmetric PSD matrix similar to Σ₁Σ₂ (no sqrtm, no complex
numbers), with negative rounding noise clipped to 0:
- cold path (`trace_sqrt_product`): one Cholesky Σ₁ = L Lᵀ and one `eigvalsh` of Lᵀ Σ₂ L
  (Lᵀ Σ₂ L = L⁻¹ (Σ₁Σ₂) L, so its eigenvalues are those of Σ₁Σ₂), both torch.linalg (MKL LAPACK);
- fallback when Σ₁ or Σ₂ is singular or nearly so (e.g. N < D rows, where a Cholesky fails or its
  pivots vanish): one `eigh` for √Σ₁ and one `eigvalsh` of √Σ₁ Σ₂ √Σ₁ (`trace_sqrt_product_eigh`, the
  previous path). Σ₂ is checked too (a second Cholesky, ~1/10 of the work): its zero eigenvalues come
  out of either path as rounding noise whose square roots differ between the paths by ~1e-9 relative.
The two agree to ~1e-12 relative on full-rank covariances (tests/unit/test_fd_cold.py).

FD∞ matches the authors' code (mchong6/FID_IS_infinity `score_infinity.py`, `calculate_FID_infinity`)
as generalised by dgm-eval (layer6ai-labs/dgm-eval `dgm_eval/metrics/fd.py`, `compute_FD_infinity`):
15 subset sizes `np.linspace(min(5000, max(N//10, 2)), N, 15).astype(int32)`, one fresh subset drawn
without replacement per size, FD of each against the full real set, least-squares line FD = a + b/N,
FD∞ = a. The only difference is the seeded generator (dgm-eval draws unseeded).

IS has three named modes (see `IS_MODES`); every mode computes the per-split score in float64 like the
references (the TF code and ADM compute softmax in float32, so values agree to ~1e-6 relative).
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics.functional.fd_fast import well_pivoted
from genbench.numerics import small_linalg


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


def _sum_sqrt(lam: np.ndarray) -> float:
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((Σ₁Σ₂)^½) = Σ√λᵢ, λ = eigenvalues of √Σ₁ Σ₂ √Σ₁ (symmetric PSD), negatives clipped to 0."""
    root1 = _psd_sqrt(sigma1)  # [D, D]
    m = root1 @ sigma2 @ root1
    return _sum_sqrt(np.linalg.eigvalsh((m + m.T) / 2.0))  # [D]


def _cholesky(sigma: torch.Tensor) -> torch.Tensor | None:
    """Lower Cholesky factor [D, D] of Σ, or None when Σ is singular or numerically close to it."""
    low, info = torch.linalg.cholesky_ex(sigma)
    if int(info) != 0:
        return None
    return low if well_pivoted(torch.diagonal(low).numpy(), torch.diagonal(sigma).numpy()) else None


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((Σ₁Σ₂)^½) = Σ√λᵢ, λ = eigenvalues of Lᵀ Σ₂ L with Σ₁ = L Lᵀ (one Cholesky, one eigvalsh);
    the eigh path (`trace_sqrt_product_eigh`) when Σ₁ or Σ₂ is (nearly) singular. Negative λ clipped to 0."""
    s1 = torch.from_numpy(np.array(sigma1, dtype=np.float64))  # [D, D] own copies for torch
    s2 = torch.from_numpy(np.array(sigma2, dtype=np.float64))
    with small_linalg(len(s1)):
        low = _cholesky(s1)
        if low is None or _cholesky(s2) is None:  # a singular Σ₂ leaves √(noise) eigenvalues: keep today's path
            return trace_sqrt_product_eigh(sigma1, sigma2)
        m = low.T @ (s2 @ low)  # [D, D] Lᵀ Σ₂ L, symmetric up to rounding
        return _sum_sqrt(torch.linalg.eigvalsh(m, UPLO="L").numpy())


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


FD_INF_POINTS = 15  # the authors' num_points and dgm-eval's default
FD_INF_MIN_SAMPLES = 100  # below this the smallest subsets hold < 10 rows and the 1/N fit is noise


def fd_inf_sizes(n: int, points: int = FD_INF_POINTS) -> np.ndarray:
    """Subset sizes of dgm-eval's `compute_FD_infinity`: `points` sizes evenly spaced in N from
    min(5000, N//10) to N, truncated to integers (the authors' code starts at 5,000 for N = 50,000 too).

    Refuses (NotEnoughSamplesError) when N < FD_INF_MIN_SAMPLES = 100: dgm-eval would fit on sizes such
    as [2, 3, 4, ...], where FD is dominated by the singular covariance rather than the 1/N bias term.
    """
    if points < 2:
        raise ConfigError(f"fd_inf points: need at least 2 subset sizes, got {points}")
    if n < FD_INF_MIN_SAMPLES:
        raise NotEnoughSamplesError(f"fd_inf: needs at least {FD_INF_MIN_SAMPLES} generated samples "
                                    f"(the smallest of its {points} subsets is N/10); got {n}")
    return np.linspace(min(5000, max(n // 10, 2)), n, points).astype(np.int32).astype(np.int64)


def fd_infinity(fake: np.ndarray, real: np.ndarray, points: int = FD_INF_POINTS, seed: int = 0) -> dict:
    """FD∞: FD of a seeded fake subset of each size vs the full real set; linear fit FD = a + b/N; a."""
    fake = _f64(fake, "fake", 2)
    sizes = fd_inf_sizes(len(fake), points)  # [points] int64
    mu2, sigma2 = feature_stats(real)
    rng = np.random.default_rng([seed, 0xFD])
    fds = []
    for n in sizes:
        sub = fake[rng.choice(len(fake), n, replace=False)]  # [n, D]
        fds.append(frechet_distance(*feature_stats(sub), mu2, sigma2))
    slope, intercept = np.polyfit(1.0 / sizes, np.asarray(fds), 1)
    return {"fd_inf": float(intercept), "slope": float(slope), "sizes": sizes.tolist(),
            "fd": [float(v) for v in fds]}


IS_MODES = {
    # original TF code (openai/improved-gan `inception_score/model.py`, get_inception_score) and its ports
    # behind most published IS tables (e.g. StyleGAN2-ADA's): samples in the given order, `splits` chunks
    # [i*N//splits, (i+1)*N//splits); mean and std (ddof=0) of the per-chunk scores.
    "tf": "no shuffle, `splits` equal chunks (openai/improved-gan inception_score/model.py)",
    # ADM's evaluator (openai/guided-diffusion `evaluations/evaluator.py`, compute_inception_score): no
    # shuffle, consecutive chunks of split_size = 5,000 (a shorter last chunk kept); equals `tf` at N = 50k.
    "adm": "no shuffle, chunks of 5,000 samples, last partial chunk kept (guided-diffusion evaluator.py)",
    # torch-fidelity (`metric_isc.isc_features_to_metric`): numpy RandomState(2020).permutation first,
    # then `splits` equal chunks.
    "torch-fidelity": "RandomState(seed=2020) shuffle, then `splits` equal chunks (torch-fidelity metric_isc.py)",
}


def inception_score(logits: np.ndarray, splits: int = 10, mode: str = "tf", seed: int = 2020,
                    split_size: int = 5000) -> tuple[float, float]:
    """(mean, std) of exp(E_x KL(p(y|x) ‖ p(y))) over chunks of the samples, per `IS_MODES[mode]`.

    `splits` is used by "tf" and "torch-fidelity", `split_size` by "adm", `seed` by "torch-fidelity".
    """
    return inception_score_of(log_softmax(logits), splits, mode, seed, split_size)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """[N, C] float64 log-probabilities, row by row (a row's value does not depend on the other rows)."""
    x = _f64(logits, "logits", 2)  # [N, C] float64
    log_p = x - x.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return log_p


def inception_score_of(log_p: np.ndarray, splits: int = 10, mode: str = "tf", seed: int = 2020,
                       split_size: int = 5000) -> tuple[float, float]:
    """inception_score from log-probabilities [N, C]."""
    bounds = _is_bounds(len(log_p), splits, mode, split_size)
    if mode == "torch-fidelity":
        log_p = log_p[np.random.RandomState(seed).permutation(len(log_p))]
    p = np.exp(log_p)
    scores = [_split_score(p[a:b], log_p[a:b]) for a, b in bounds]
    return float(np.mean(scores)), float(np.std(scores))


def inception_score_rows(p: np.ndarray, neg_entropy: np.ndarray, rows: np.ndarray, splits: int = 10,
                         mode: str = "tf", seed: int = 2020, split_size: int = 5000) -> float:
    """Mean split score of the samples `rows` (a resample, in order) from per-row p [N, C] and Σ p log p [N]:
    a split's score exp(E KL(p ‖ q)) = exp(mean Σ p log p − Σ q log q), q its mean p (no [n, C] log pass)."""
    bounds = _is_bounds(len(rows), splits, mode, split_size)
    if mode == "torch-fidelity":
        rows = rows[np.random.RandomState(seed).permutation(len(rows))]
    scores = []
    for a, b in bounds:
        q = p[rows[a:b]].mean(axis=0)  # [C]
        scores.append(np.exp(neg_entropy[rows[a:b]].mean() - (q * np.log(q)).sum()))
    return float(np.mean(scores))


def _is_bounds(n: int, splits: int, mode: str, split_size: int) -> list[tuple[int, int]]:
    """The [a, b) chunks of n samples for `mode` (IS_MODES)."""
    if mode not in IS_MODES:
        raise ConfigError(f"is mode: unknown {mode!r}; choose one of {', '.join(IS_MODES)}")
    if mode == "adm":
        if split_size < 1:
            raise ConfigError(f"is split_size: must be >= 1, got {split_size}")
        return [(i, min(i + split_size, n)) for i in range(0, n, split_size)]
    if n < splits:
        raise NotEnoughSamplesError(f"inception_score: {n} samples < is splits={splits}")
    return [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]


def _split_score(p: np.ndarray, log_p: np.ndarray) -> float:
    log_q = np.log(p.mean(axis=0, keepdims=True))  # [1, C] log p(y)
    return float(np.exp((p * (log_p - log_q)).sum(axis=1).mean()))
