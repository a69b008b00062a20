"""Mode-collapse diagnostics: 2-D mixtures (VEEGAN / PacGAN), class coverage, stacked digits, NDB / JS.

- 2-D mixtures, as PacGAN (Lin et al. 2018) reports them: a sample is high-quality if its distance to
  the nearest mode centre is <= 3σ; a mode is captured if it is the nearest mode of >= 1 high-quality
  sample; reverse KL = KL(p_gen ‖ uniform) = Σ_k p_k log(K p_k) in nats, p the histogram of high-quality
  samples over the K modes (empty modes contribute 0). NaN when no sample is high-quality.
- Classes covered: classes that are the argmax of >= 1 fake sample's class probabilities;
  class_kl = KL(p_fake ‖ q_real) in nats over the K classes, p_fake the unsmoothed argmax histogram,
  q_real the real argmax histogram with Laplace smoothing, q = (n_c + 1) / (N + K), so it is never 0.
- Stacked digits (VEEGAN): mode 100a + 10b + c from the per-channel labels; modes captured out of 1000
  and KL(hist ‖ uniform over 1000) in nats (no smoothing needed: the uniform side has no zeros).
- NDB / JS (Richardson & Weiss 2018, reference code eitanrich/gans-n-gmms `ndb.py`): K k-means bins on
  real features (sklearn KMeans, n_init=1, random_state=seed); every sample goes to its nearest centre;
  per bin the two-proportion z-test with pooled proportion, two-sided p < 0.05; NDB = number of
  significant bins; JS = Jensen-Shannon divergence of the two bin histograms in nats (0 .. log 2).
"""
from __future__ import annotations

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError

STACKED_MODES = 1000


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(p ‖ uniform) in nats of a histogram of counts over len(counts) bins (0 log 0 = 0)."""
    p = counts[counts > 0] / counts.sum()
    return float((p * np.log(len(counts) * p)).sum())


def mixture_modes(points: np.ndarray, centres: np.ndarray, sigma: float) -> dict:
    """modes_captured, high_quality_fraction and reverse_kl of 2-D samples against K mode centres."""
    x = np.asarray(points, dtype=np.float64)  # [N, 2]
    d = np.linalg.norm(x[:, None, :] - centres[None, :, :], axis=2)  # [N, K]
    nearest, dist = d.argmin(axis=1), d.min(axis=1)
    hq = dist <= 3.0 * sigma
    counts = np.bincount(nearest[hq], minlength=len(centres)).astype(np.float64)  # [K]
    kl = kl_to_uniform(counts) if hq.any() else float("nan")
    return {"modes_captured": int((counts > 0).sum()), "high_quality_fraction": float(hq.mean()),
            "reverse_kl": kl, "mode_counts": counts.astype(int).tolist()}


def class_coverage(fake_probs: np.ndarray, real_probs: np.ndarray | None = None) -> dict:
    """classes_covered (and class_kl against the real histogram when real_probs is given)."""
    fp = np.asarray(fake_probs)
    k = fp.shape[1]
    fake_counts = np.bincount(fp.argmax(axis=1), minlength=k).astype(np.float64)  # [K]
    out = {"classes_covered": int((fake_counts > 0).sum()), "num_classes": k}
    if real_probs is not None:
        rp = np.asarray(real_probs)
        if rp.shape[1] != k:
            raise ConfigError(f"class_probs: fake has {k} classes, real has {rp.shape[1]}")
        real_counts = np.bincount(rp.argmax(axis=1), minlength=k).astype(np.float64)
        q = (real_counts + 1.0) / (real_counts.sum() + k)
        p = fake_counts / fake_counts.sum()
        nz = p > 0
        out["class_kl"] = float((p[nz] * np.log(p[nz] / q[nz])).sum())
    return out


def stacked_modes(channel_classes: np.ndarray) -> dict:
    """modes captured out of 1000 and KL(hist ‖ uniform) from per-channel digit labels [N, 3]."""
    c = np.asarray(channel_classes, dtype=np.int64)
    if c.ndim != 2 or c.shape[1] != 3 or c.min() < 0 or c.max() > 9:
        raise ConfigError(f"channel_classes: expected int labels 0..9 of shape [N, 3], got shape {c.shape}")
    counts = np.bincount(c @ np.array([100, 10, 1]), minlength=STACKED_MODES).astype(np.float64)
    return {"stacked_modes_captured": int((counts > 0).sum()), "stacked_kl": kl_to_uniform(counts)}


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats between two probability vectors."""
    m = (p + q) / 2.0

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float((a[nz] * np.log(a[nz] / m[nz])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def two_proportion_p(p1: np.ndarray, n1: int, p2: np.ndarray, n2: int) -> np.ndarray:
    """Two-sided p-values of the pooled two-proportion z-test, per bin."""
    from scipy.stats import norm

    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (p1 - p2) / se, 0.0)
    return 2.0 * norm.sf(np.abs(z))


def ndb_js(fake: np.ndarray, real: np.ndarray, bins: int = 100, seed: int = 0, alpha: float = 0.05) -> dict:
    """NDB (count and fraction of significantly different bins) and JS of the bin histograms."""
    from sklearn.cluster import KMeans

    r, f = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if len(r) < bins or len(f) < 2:
        raise NotEnoughSamplesError(f"ndb: {bins} bins need at least {bins} real samples and 2 fake; "
                                    f"got real={len(r)}, fake={len(f)}")
    km = KMeans(n_clusters=bins, n_init=1, random_state=seed).fit(r)
    pr = np.bincount(km.labels_, minlength=bins) / len(r)  # [K]
    pf = np.bincount(km.predict(f), minlength=bins) / len(f)  # [K]
    pvals = two_proportion_p(pf, len(f), pr, len(r))
    ndb = int((pvals < alpha).sum())
    return {"ndb": ndb, "ndb_fraction": ndb / bins, "js": js_divergence(pf, pr), "bins": bins}
