"""Mode-collapse diagnostics: 2-D mixtures (VEEGAN / PacGAN), class coverage, stacked digits, NDB / JS.

- 2-D mixtures, as PacGAN (Lin et al. 2018) reports them: a sample is high-quality if its distance to
  the nearest mode centre is <= 3σ; a mode is captured if it is the nearest mode of >= 1 high-quality
  sample; reverse KL = KL(p_gen ‖ uniform) = Σ_k p_k log(K p_k) in nats, p the histogram of high-quality
  samples over the K modes (empty modes contribute 0). NaN when no sample is high-quality.
- Counting under confusion. A classifier that errs 1.7% of the time puts a few samples into classes the
  set does not contain, so "argmax of >= 1 sample" (the literature's count, kept as `classes_hit_raw`,
  `stacked_modes_raw`, `modes_captured_raw`) overstates coverage: 1,264 real digits of 7 classes read
  8. A class c counts as covered only when its count n_c is significant against the rate r_c at which
  samples of *other* classes land in c: one-sided binomial test P(X >= n_c | X ~ Bin(N, r_c)) < alpha
  (default alpha = 0.001 per class, i.e. a family-wise 1% over 10 classes by Bonferroni). r_c is
  measured on the held-out split with the shipped classifier and stored beside its weights
  (genbench/assets/digits_classifier.json, `other_class_rate`). The same test applies to stacked-digits
  modes (r_m from the per-channel confusion, assuming the other modes are uniform; see stacked_rates)
  and to 2-D modes (r_c = the chance that a point of another Gaussian falls within 3σ of centre c).
- class_kl = KL(p_fake ‖ q_real) in nats over the K classes, p_fake the unsmoothed argmax histogram,
  q_real the real argmax histogram with Laplace smoothing, q = (n_c + 1) / (N + K), so it is never 0.
  class_hist_p: p-value of the G-test of homogeneity (likelihood-ratio chi-square, Sokal & Rohlf) of
  the 2 x K table of fake and real argmax histograms, K' - 1 degrees of freedom over the K' classes
  seen in either set (scipy.stats.chi2_contingency with lambda_="log-likelihood" computes the same).
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
ALPHA = 0.001  # per class / mode, one-sided


def significant_counts(counts: np.ndarray, rates: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Boolean [K]: count n_k is significant against Bin(N, rate_k), N = counts.sum(), one-sided."""
    c = np.asarray(counts, dtype=np.float64)  # [K]
    r = np.clip(np.asarray(rates, dtype=np.float64), 0.0, 1.0)  # [K]
    n = int(round(c.sum()))
    return (c > 0) & (binomial_sf(c - 1, n, r) < alpha)


def binomial_sf(k: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """[K] P(X > k), X ~ Bin(n, p), for integer-valued k: the regularised incomplete beta I_p(k+1, n−k),
    which is what scipy.stats.binom.sf evaluates (bit for bit, tested), without importing scipy.stats
    (0.4 s of every command that scores classes)."""
    from scipy.special import betainc

    k = np.asarray(k, dtype=np.float64)
    inside = (k >= 0) & (k < n)
    with np.errstate(invalid="ignore"):
        sf = betainc(np.where(inside, k + 1.0, 1.0), np.where(inside, n - k, 1.0), p)
    return np.where(inside, sf, np.where(k < 0, 1.0, 0.0))


def g_test_p(fake_counts: np.ndarray, real_counts: np.ndarray) -> tuple[float, float]:
    """(G, p) of the G-test of homogeneity of two histograms over the bins seen in either."""
    from scipy.special import chdtrc  # = scipy.stats.chi2.sf(x, df), bit for bit, without scipy.stats

    table = np.stack([fake_counts, real_counts]).astype(np.float64)  # [2, K]
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    nz = table > 0
    g = float(2.0 * (table[nz] * np.log(table[nz] / expected[nz])).sum())
    return g, float(chdtrc(table.shape[1] - 1, g))


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(p ‖ uniform) in nats of a histogram of counts over len(counts) bins (0 log 0 = 0)."""
    p = counts[counts > 0] / counts.sum()
    return float((p * np.log(len(counts) * p)).sum())


def mixture_rates(centres: np.ndarray, sigma: float) -> np.ndarray:
    """[K] mean over the other modes j of P(‖x − μ_c‖ <= 3σ), x ~ N(μ_j, σ² I) (non-central chi-square)."""
    from scipy.stats import ncx2

    c = np.asarray(centres, dtype=np.float64)  # [K, 2]
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2) / sigma ** 2  # [K, K] squared separation / σ²
    p = ncx2.cdf(9.0, 2, np.where(d2 > 0, d2, 1.0))
    np.fill_diagonal(p, 0.0)
    return p.sum(axis=1) / max(len(c) - 1, 1)


def mixture_modes(points: np.ndarray, centres: np.ndarray, sigma: float, alpha: float = ALPHA) -> dict:
    """modes_captured (significant), modes_captured_raw, high_quality_fraction and reverse_kl."""
    x = np.asarray(points, dtype=np.float64)  # [N, 2]
    d = np.linalg.norm(x[:, None, :] - centres[None, :, :], axis=2)  # [N, K]
    nearest, dist = d.argmin(axis=1), d.min(axis=1)
    hq = dist <= 3.0 * sigma
    counts = np.bincount(nearest[hq], minlength=len(centres)).astype(np.float64)  # [K]
    kl = kl_to_uniform(counts) if hq.any() else float("nan")
    sig = significant_counts(counts, mixture_rates(centres, sigma), alpha)
    return {"modes_captured": int(sig.sum()), "modes_captured_raw": int((counts > 0).sum()),
            "high_quality_fraction": float(hq.mean()),
            "reverse_kl": kl, "mode_counts": counts.astype(int).tolist()}


def class_coverage(fake_probs: np.ndarray, real_probs: np.ndarray | None = None,
                   other_rates: np.ndarray | None = None, alpha: float = ALPHA) -> dict:
    """classes_covered (significant against `other_rates` [K]; raw when None), classes_hit_raw, and
    class_kl, class_hist_g, class_hist_p against the real histogram when real_probs is given."""
    fp = np.asarray(fake_probs)
    k = fp.shape[1]
    fake_counts = np.bincount(fp.argmax(axis=1), minlength=k).astype(np.float64)  # [K]
    raw = fake_counts > 0
    sig = raw if other_rates is None else significant_counts(fake_counts, other_rates, alpha)
    out = {"classes_covered": int(sig.sum()), "classes_hit_raw": int(raw.sum()), "num_classes": k,
           "class_counts": fake_counts.astype(int).tolist()}
    if real_probs is not None:
        rp = np.asarray(real_probs)
        if rp.shape[1] != k:
            raise ConfigError(f"class_probs: fake has {k} classes, real has {rp.shape[1]}")
        real_counts = np.bincount(rp.argmax(axis=1), minlength=k).astype(np.float64)
        q = (real_counts + 1.0) / (real_counts.sum() + k)
        p = fake_counts / fake_counts.sum()
        nz = p > 0
        out["class_kl"] = float((p[nz] * np.log(p[nz] / q[nz])).sum())
        out["class_hist_g"], out["class_hist_p"] = g_test_p(fake_counts, real_counts)
    return out


def stacked_rates(confusion: np.ndarray) -> np.ndarray:
    """[1000] rate at which a stacked image of another mode (uniform over the 999) lands in mode m.

    Per channel, P(pred = d) = (a_d + Σ_{j≠d} P(d | j)) / 10 under uniform true digits, a_d = P(d | d);
    so P(pred = m) = Π_ch P(pred = d_ch) and P(pred = m, true = m) = Π_ch a_{d_ch} / 10; the rate is
    their difference over P(true ≠ m) = 999/1000. confusion: counts [true, predicted] [10, 10].
    """
    c = np.asarray(confusion, dtype=np.float64)
    cond = c / c.sum(axis=1, keepdims=True)  # [10 true, 10 pred] P(pred | true)
    p_pred, p_hit = cond.mean(axis=0), np.diag(cond) / 10.0  # [10], [10]
    digits = np.array([[m // 100, m // 10 % 10, m % 10] for m in range(STACKED_MODES)])  # [1000, 3]
    both = p_pred[digits].prod(axis=1) - p_hit[digits].prod(axis=1)  # [1000]
    return np.clip(both, 0.0, 1.0) / (1.0 - 1.0 / STACKED_MODES)


def stacked_modes(channel_classes: np.ndarray, confusion: np.ndarray | None = None, alpha: float = ALPHA) -> dict:
    """Modes captured (significant given `confusion`; raw when None) out of 1000, the raw count, and
    KL(hist ‖ uniform) from per-channel digit labels [N, 3]."""
    c = np.asarray(channel_classes, dtype=np.int64)
    if c.ndim != 2 or c.shape[1] != 3 or c.min() < 0 or c.max() > 9:
        raise ConfigError(f"channel_classes: expected int labels 0..9 of shape [N, 3], got shape {c.shape}")
    counts = np.bincount(c @ np.array([100, 10, 1]), minlength=STACKED_MODES).astype(np.float64)
    raw = counts > 0
    sig = raw if confusion is None else significant_counts(counts, stacked_rates(confusion), alpha)
    return {"stacked_modes_captured": int(sig.sum()), "stacked_modes_raw": int(raw.sum()),
            "stacked_kl": kl_to_uniform(counts)}


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
