"""Parity with the code behind published numbers, for the metrics whose conventions differ between peers.

Each oracle below is the reference maths ported into the test (never into the package), with the file it
comes from. Inputs are small and fixed; where a reference draws from an unseeded generator, the oracle is
given the same seeded generator genbench uses, so the comparison is exact.
"""
from __future__ import annotations

import numpy as np
import pytest

from genbench.errors import NotEnoughSamplesError
from genbench.metrics import functional as fn


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---- C_T: casey-meehan/data-copying data_copying_tests.py (= layer6ai-labs/dgm-eval metrics/ct.py) ----
def _ref_zu(pn, qm, t):
    from scipy.stats import mannwhitneyu
    from sklearn.neighbors import NearestNeighbors

    m, n = qm.shape[0], pn.shape[0]
    t_nn = NearestNeighbors(n_neighbors=1).fit(t)
    lqm, _ = t_nn.kneighbors(X=qm, n_neighbors=1)
    lpn, _ = t_nn.kneighbors(X=pn, n_neighbors=1)
    u, _ = mannwhitneyu(lqm, lpn, alternative="less")
    mean = (n * m / 2) - 0.5  # 0.5 is continuity correction
    std = np.sqrt(n * m * (n + m + 1) / 12)
    return (u - mean) / std


def _ref_c_t(pn, pn_cells, qm, qm_cells, t, t_cells, tau):
    m, n = qm.shape[0], pn.shape[0]
    k = np.max(np.unique(t_cells)) + 1
    labels, cts = np.unique(qm_cells, return_counts=True)
    qm_cts = np.zeros(k)
    qm_cts[labels.astype(int)] = cts
    pi_tau = qm_cts / m > tau
    labels, cts = np.unique(pn_cells, return_counts=True)
    pn_cts = np.zeros(k)
    pn_cts[labels.astype(int)] = cts
    pn_of_pi = pn_cts / n
    zu = np.zeros(k)
    for i in range(k):
        if len(pn[pn_cells == i]) * len(t[t_cells == i]) == 0:
            raise ValueError(f"cell {i} lacks test or training samples")
        if len(qm[qm_cells == i]) > 0:
            zu[i] = np.ravel(_ref_zu(pn[pn_cells == i], qm[qm_cells == i], t[t_cells == i]))[0]
    return pn_of_pi[pi_tau].dot(zu[pi_tau]) / np.sum(pn_of_pi[pi_tau])


def _ct_sets(seed: int, copy: float):
    """Four well-separated clusters; `copy` of the fakes are training points plus tiny noise."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * rng.standard_normal((4, 5))

    def draw(n):
        return centres[rng.integers(0, 4, n)] + rng.standard_normal((n, 5))

    train, held, fake = draw(400), draw(240), draw(240)
    k = int(copy * len(fake))
    fake[:k] = train[:k] + 1e-3 * rng.standard_normal((k, 5))
    return fake, train, held


@pytest.mark.parametrize("seed,copy", [(0, 0.0), (1, 0.5), (2, 0.9)])
def test_c_t_matches_authors_code(seed, copy):
    from sklearn.cluster import KMeans

    fake, train, held = _ct_sets(seed, copy)
    km = KMeans(n_clusters=4, n_init=1, random_state=seed).fit(train)  # genbench's seeded fit
    ref = _ref_c_t(held, km.predict(held), fake, km.predict(fake), train, km.predict(train), tau=20 / len(fake))
    ours = fn.c_t(fake, train, held, cells=4, seed=seed, tau=20)
    assert ours["c_t"] == pytest.approx(ref, abs=1e-10)
    assert ours["cells_used"] == int(np.sum(np.bincount(km.predict(fake), minlength=4) > 20))


def test_c_t_tau_is_strict_and_continuity_shifts_u_by_half():
    assert fn.mann_whitney_z(np.ones(4), np.zeros(5)) - fn.mann_whitney_z(np.ones(4), np.zeros(5), False) \
        == pytest.approx(0.5 / np.sqrt(4 * 5 * 10 / 12))
    from sklearn.cluster import KMeans

    fake, train, held = _ct_sets(3, 0.0)
    km = KMeans(n_clusters=4, n_init=1, random_state=0).fit(train)
    counts = np.sort(np.bincount(km.predict(fake), minlength=4))
    at = fn.c_t(fake, train, held, cells=4, tau=int(counts[0]))  # the smallest cell holds exactly tau fakes
    assert at["cells_used"] == int(np.sum(counts > counts[0]))


# ---- CMMD: google-research/google-research cmmd/distance.py (`mmd`, biased estimator) -------------------
def _ref_cmmd(x, y, sigma=10, scale=1000):
    x_sq, y_sq = np.diag(x @ x.T), np.diag(y @ y.T)
    gamma = 1 / (2 * sigma**2)
    k_xx = np.mean(np.exp(-gamma * (-2 * x @ x.T + x_sq[:, None] + x_sq[None, :])))
    k_xy = np.mean(np.exp(-gamma * (-2 * x @ y.T + x_sq[:, None] + y_sq[None, :])))
    k_yy = np.mean(np.exp(-gamma * (-2 * y @ y.T + y_sq[:, None] + y_sq[None, :])))
    return scale * (k_xx + k_yy - 2 * k_xy)


@pytest.mark.parametrize("n,m", [(50, 50), (64, 40)])
def test_cmmd_matches_google_research_distance_py(n, m):
    rng = np.random.default_rng(n + m)
    x = rng.standard_normal((n, 32))
    x /= np.linalg.norm(x, axis=1, keepdims=True)  # CLIP embeddings are unit rows
    y = rng.standard_normal((m, 32)) + 0.3
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    assert fn.cmmd(x, y) == pytest.approx(_ref_cmmd(x, y), rel=1e-9, abs=1e-12)
    unbiased = fn.cmmd(x, y, estimator="unbiased")

    def offdiag_mean(a):
        k = np.exp(-((a[:, None] - a[None]) ** 2).sum(-1) / 200.0)
        return (k.sum() - n_of(a)) / (n_of(a) * (n_of(a) - 1))

    n_of = len
    gap = 1000 * ((1 - offdiag_mean(x)) / n + (1 - offdiag_mean(y)) / m)
    assert fn.cmmd(x, y) - unbiased == pytest.approx(gap, rel=1e-9)


# ---- FD∞: layer6ai-labs/dgm-eval dgm_eval/metrics/fd.py `compute_FD_infinity` (after mchong6/FID_IS_infinity)
def _ref_fd_infinity(reps1, reps2, rng, num_points=15):
    from scipy import linalg
    from sklearn.linear_model import LinearRegression

    def stats(r):
        return np.mean(r, axis=0), np.cov(r, rowvar=False)

    def fd(mu1, mu2, s1, s2):
        covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
        covmean = covmean.real
        diff = mu1 - mu2
        return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)

    fd_batches = np.linspace(min(5000, max(len(reps2) // 10, 2)), len(reps2), num_points).astype("int32")
    mu1, sigma1 = stats(reps1)
    fds = []
    for size in fd_batches:
        mu2, sigma2 = stats(rng.choice(reps2, size, replace=False))
        fds.append(fd(mu1, mu2, sigma1, sigma2))
    reg = LinearRegression().fit(1 / fd_batches.reshape(-1, 1), np.array(fds).reshape(-1, 1))
    return reg.predict(np.array([[0]]))[0, 0], fd_batches


def test_fd_infinity_matches_dgm_eval():
    rng = np.random.default_rng(9)
    real = rng.standard_normal((600, 6))
    fake = rng.standard_normal((400, 6)) @ (np.eye(6) + 0.2 * rng.standard_normal((6, 6))) + 0.3
    ref, sizes = _ref_fd_infinity(real, fake, np.random.default_rng([5, 0xFD]))  # genbench's seeded draws
    ours = fn.fd_infinity(fake, real, seed=5)
    assert ours["sizes"] == sizes.tolist() and len(sizes) == 15 and sizes[0] == 40
    assert ours["fd_inf"] == pytest.approx(ref, rel=1e-7)


def test_fd_infinity_sizes_match_the_authors_at_50k_and_refuse_tiny_n():
    assert fn.fd_inf_sizes(50_000).tolist() == np.linspace(5000, 50_000, 15).astype("int32").tolist()
    with pytest.raises(NotEnoughSamplesError, match="fd_inf.*100.*got 40"):
        fn.fd_inf_sizes(40)


# ---- IS: openai/improved-gan inception_score/model.py ("tf") and guided-diffusion evaluator ("adm") -----
def _ref_is_tf(preds, splits=10):
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits):((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return np.mean(scores), np.std(scores)


def _ref_is_adm(preds, split_size=5000):
    scores = []
    for i in range(0, len(preds), split_size):
        part = preds[i:i + split_size]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores))


@pytest.fixture(scope="module")
def is_logits():
    return 3.0 * np.random.default_rng(4).standard_normal((1103, 1008))  # [N, 1008], N not divisible


def test_is_tf_mode_matches_improved_gan(is_logits):
    ref_mean, ref_std = _ref_is_tf(_softmax(is_logits))
    mean, std = fn.inception_score(is_logits, 10, mode="tf")
    assert (mean, std) == (pytest.approx(ref_mean, rel=1e-12), pytest.approx(ref_std, rel=1e-9))
    assert fn.inception_score(is_logits) == (mean, std)  # tf is the default


@pytest.mark.parametrize("split_size", [5000, 500])
def test_is_adm_mode_matches_guided_diffusion_evaluator(is_logits, split_size):
    mean, _ = fn.inception_score(is_logits, mode="adm", split_size=split_size)
    assert mean == pytest.approx(_ref_is_adm(_softmax(is_logits), split_size), rel=1e-12)


def test_is_adm_equals_tf_at_ten_equal_splits():
    logits = 2.0 * np.random.default_rng(5).standard_normal((200, 16))
    assert fn.inception_score(logits, mode="adm", split_size=20) == \
        pytest.approx(fn.inception_score(logits, 10, mode="tf"), rel=1e-12)


# ---- NDB: eitanrich/gans-n-gmms utils/ndb.py (`NDB.construct_bins` / `evaluate`, whitening off) ---------
def _ref_ndb(train, query, k, seed, alpha=0.05):
    from scipy.stats import norm
    from sklearn.cluster import KMeans

    n, d = train.shape
    max_dims = d // 6 if d > 1000 else None
    d_used = d if max_dims is None else min(d, max_dims)
    np.random.seed(seed)
    used = np.random.choice(d, d_used, replace=False)
    clusters = KMeans(n_clusters=k, max_iter=100, n_init=1, random_state=seed).fit(train[:, used])
    centers = np.stack([train[clusters.labels_ == i].mean(axis=0) for i in range(k)])
    _, counts = np.unique(clusters.labels_, return_counts=True)
    order = np.argsort(-counts)
    p_train, centers = counts[order] / counts.sum(), centers[order]
    dist = np.stack([np.linalg.norm(query[:, used] - c[used], axis=1) for c in centers], axis=1)
    labels = np.argmin(dist, axis=1)
    p_query = np.zeros(k)
    vals, cts = np.unique(labels, return_counts=True)
    p_query[vals] = cts / len(query)
    p = (p_train * n + p_query * len(query)) / (n + len(query))
    z = (p_train - p_query) / np.sqrt(p * (1 - p) * (1 / n + 1 / len(query)))
    ndb = int(np.count_nonzero(2.0 * norm.cdf(-np.abs(z)) < alpha))
    m = (p_train + p_query) * 0.5

    def kl(a, b):
        pos = a > 0
        return np.sum(a[pos] * np.log(a[pos] / b[pos]))

    return ndb, 0.5 * (kl(p_train, m) + kl(p_query, m)), used


def test_ndb_matches_gans_n_gmms_on_a_dimension_subset():
    rng = np.random.default_rng(11)
    d, k = 1206, 5
    centres = 6.0 * rng.standard_normal((k, d))
    real = centres[rng.integers(0, k, 500)] + rng.standard_normal((500, d))
    fake = centres[rng.choice(k, 400, p=[0.5, 0.2, 0.1, 0.1, 0.1])] + rng.standard_normal((400, d))
    ref_ndb, ref_js, used = _ref_ndb(real, fake, k, seed=3)
    idx = fn.ndb_dimensions(d, seed=3)
    assert len(idx) == 201 and idx.tolist() == used.tolist()
    ours = fn.ndb_js(fake[:, idx], real[:, idx], bins=k, seed=3)
    assert ours["ndb"] == ref_ndb > 0
    assert ours["js"] == pytest.approx(ref_js, rel=1e-12)


def test_ndb_uses_every_dimension_up_to_1000():
    assert fn.ndb_dimensions(1000).tolist() == list(range(1000))
    assert len(fn.ndb_dimensions(2048)) == 2048 // 6
