"""How far the worst-kept class's share fell: a simultaneous interval over the classes of two histograms.

Partial mode dropping (one class kept at a fraction of its share, the others filling up) moves FD by
less than its noise and leaves every class present, so neither fd nor classes_covered sees it reliably.
`class_share` compares the class shares of a set A with those of a set B directly (the gate: candidate
vs baseline; one result: its samples vs the reference), class by class:

    r_k = (a_k / n_a) / (b_k / n_b)        the ratio of class k's share in A to its share in B
    class_share = min_k r_k − 1            the relative change of the worst-kept class (−1 .. +∞)

A share's noise is that of its count, so the ratio's interval comes from the counts. Conditional on
m_k = a_k + b_k, a_k ~ Binomial(m_k, π_k) with π_k = n_a r_k / (n_a r_k + n_b) when the counts are
Poisson; the exact (Clopper-Pearson) interval of π_k maps to one of r_k (the classical exact comparison
of two Poisson rates; counts of a multinomial vary less than Poisson counts, so it errs on the wide
side). Each class gets the level 1 − α/K' (Bonferroni over the K' classes seen in either set), so the K'
intervals hold together with probability >= 1 − α, and so does [min_k lo_k, min_k hi_k] for min_k r_k.
A class seen in neither set carries no information and is left out. Simulated at N = 1,000 vs 1,000
with 10 equal classes (tests/unit/test_class_shares.py): the lower bound of an unchanged set falls below
−0.6 in about 0.2% of draws, and a class kept at 30% of its share puts the upper bound below −0.5.
Pure maths on count vectors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.errors import ConfigError

ALPHA = 0.05  # family-wise, two-sided, over the classes


@dataclass(frozen=True)
class ShareChange:
    """min_k r_k − 1 with its simultaneous interval, and the class that attains the point value."""

    value: float
    lo: float
    hi: float
    worst: int  # class index of the point value
    share_a: float  # that class's share in A
    share_b: float  # and in B
    classes: int  # K': classes seen in either set
    alpha: float


def class_counts(probs: np.ndarray) -> np.ndarray:
    """[K] float64 counts of argmax classes of class probabilities (or logits) [N, K]."""
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ConfigError(f"class_share: expected class probabilities of shape [N, K >= 2], got {p.shape}")
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]).astype(np.float64)


def _ratio(pi: np.ndarray, n_a: float, n_b: float) -> np.ndarray:
    """r = π n_b / ((1 − π) n_a), +inf where π = 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pi >= 1.0, np.inf, pi * n_b / ((1.0 - pi) * n_a))


def share_change(a: np.ndarray, b: np.ndarray, alpha: float = ALPHA) -> ShareChange:
    """The relative change of the worst-kept class's share from counts b [K] to counts a [K]."""
    from scipy.special import betaincinv  # = scipy.stats.beta.ppf(q, a, b), bit for bit, without scipy.stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)  # [K], [K]
    if a.shape != b.shape or a.ndim != 1 or (a < 0).any() or (b < 0).any():
        raise ConfigError(f"class_share: expected two count vectors of one length, got {a.shape} and {b.shape}")
    n_a, n_b = a.sum(), b.sum()
    if n_a == 0 or n_b == 0:
        raise ConfigError("class_share: a set with no samples has no class shares")
    seen = np.flatnonzero(a + b > 0)
    ak, bk = a[seen], b[seen]  # [K']
    level = alpha / len(seen)
    pi_lo = np.where(ak > 0, betaincinv(ak, bk + 1, level / 2), 0.0)
    pi_hi = np.where(bk > 0, betaincinv(ak + 1, np.maximum(bk, 1e-300), 1 - level / 2), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(bk > 0, (ak / n_a) / (bk / n_b), np.inf)  # [K']
    i = int(np.argmin(point))
    return ShareChange(float(point[i] - 1.0), float(_ratio(pi_lo, n_a, n_b).min() - 1.0),
                       float(_ratio(pi_hi, n_a, n_b).min() - 1.0), int(seen[i]), float(ak[i] / n_a),
                       float(bk[i] / n_b), len(seen), alpha)
