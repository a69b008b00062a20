"""Closed forms and known answers for every metric family, plus errors and the bootstrap."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from genbench.data.builtin import load_dataset, toy2d_modes
from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics import METRICS, MetricConfig, MetricInputs, functional as fn, load_all

NO_BOOT = MetricConfig(bootstrap=0)


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    load_all()


def _compute(name: str, arrays: dict, config: MetricConfig = NO_BOOT, params=None, **context) -> dict:
    cls = METRICS.get(name)
    return cls(None if params is None else cls.Params(**params)).compute(MetricInputs(arrays, context), config)


def _gauss(seed: int, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)) + shift  # [n, d] float64


# ---- FD ----------------------------------------------------------------------------------------------
def test_fd_equal_covariance_is_squared_mean_distance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20, 20))
    sigma = a @ a.T + 0.5 * np.eye(20)  # exact SPD covariance
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    assert fn.frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-9)


def test_fd_of_diagonal_gaussians_closed_form():
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    expected = 1.0 + ((np.sqrt(s1) - np.sqrt(s2)) ** 2).sum()
    assert fn.frechet_distance(np.zeros(3), np.diag(s1), np.eye(3)[0], np.diag(s2)) == pytest.approx(expected)


def test_fd_of_a_set_with_itself_is_zero():
    x = _gauss(1, 300, 16)
    assert abs(fn.frechet_distance_features(x, x)) < 1e-8
    assert abs(_compute("fd", {"fake.embedding": x, "real.embedding": x})["fd"].value) < 1e-8


def test_fd_warns_when_fewer_samples_than_dimensions():
    with pytest.warns(UserWarning, match="samples < feature dimension"):
        fn.frechet_distance_features(_gauss(2, 10, 32), _gauss(3, 100, 32))


def test_fid_is_fd_under_another_name():
    x, y = _gauss(4, 80, 6), _gauss(5, 90, 6, 0.5)
    arrays = {"fake.embedding": x, "real.embedding": y}
    assert _compute("fid", arrays)["fid"].value == _compute("fd", arrays)["fd"].value


def test_fd_inf_is_below_finite_fd_and_uses_five_sizes():
    x, y = _gauss(6, 500, 8, 0.2), _gauss(7, 2000, 8)
    out = _compute("fd_inf", {"fake.embedding": x, "real.embedding": y})["fd_inf"]
    assert len(out.details["sizes"]) == 5 and out.details["sizes"][-1] == 500 and out.details["sizes"][0] == 100
    assert out.value < fn.frechet_distance_features(x, y)
    assert out.details["slope"] > 0


# ---- KID, IS, CMMD, Vendi, CLIP ---------------------------------------------------------------------
def test_kid_near_zero_for_same_distribution_and_positive_for_shift():
    same = _compute("kid", {"fake.embedding": _gauss(8, 300, 10), "real.embedding": _gauss(9, 300, 10)},
                    params={"subsets": 10, "subset_size": 100})["kid"]
    shifted = fn.kernel_inception_distance(_gauss(8, 300, 10, 1.0), _gauss(9, 300, 10), 10, 100)[0]
    assert abs(same.value) < 0.05 < shifted and same.std > 0 and same.details["subset_size"] == 100


def test_inception_score_bounds():
    uniform = np.zeros((100, 10))
    assert fn.inception_score(uniform, 5)[0] == pytest.approx(1.0)
    confident = np.eye(10)[np.arange(100) % 10] * 50.0  # every class equally often, certain predictions
    assert fn.inception_score(confident, 5, shuffle=False)[0] == pytest.approx(10.0, rel=1e-6)


def test_cmmd_zero_for_identical_distribution_scale():
    x = _gauss(10, 200, 8)
    assert abs(fn.cmmd(x, _gauss(11, 200, 8))) < abs(fn.cmmd(x, _gauss(11, 200, 8, 3.0)))


def test_vendi_of_identical_and_orthogonal_samples():
    assert fn.vendi_score(np.ones((20, 5))) == pytest.approx(1.0)
    assert fn.vendi_score(np.eye(7)) == pytest.approx(7.0)
    labels = np.arange(14) % 2
    out = _compute("vendi", {"fake.embedding": np.concatenate([np.eye(7), np.eye(7)]), "fake.labels": labels})
    assert out["vendi"].value == pytest.approx(7.0) and set(out["vendi"].details["per_class"]) == {"0", "1"}


def test_clip_score_clamps_each_image():
    img = np.array([[1.0, 0.0], [1.0, 0.0]])
    txt = np.array([[1.0, 0.0], [-1.0, 0.0]])  # cosines 1 and -1
    assert fn.clip_score(img, txt) == pytest.approx(50.0)
    out = _compute("clipscore_hessel", {"fake.clip": img, "fake.text_hessel": txt})
    assert out["clipscore_hessel"].value == pytest.approx(1.25)


# ---- mode collapse ------------------------------------------------------------------------------------
def _ring_samples(modes: list[int], n: int = 2500, seed: int = 0) -> np.ndarray:
    centres, sigma = toy2d_modes("toy2d-ring8")
    rng = np.random.default_rng(seed)
    pick = np.asarray(modes)[np.arange(n) % len(modes)]
    return centres[pick] + sigma * rng.standard_normal((n, 2))


def test_perfect_ring_sampler_captures_all_modes():
    out = _compute("modes", {"fake.points": _ring_samples(list(range(8)))}, dataset="toy2d-ring8")
    assert out["modes_captured"].value == 8
    assert out["high_quality_fraction"].value > 0.98
    assert out["reverse_kl"].value == pytest.approx(0.0, abs=1e-3)


def test_one_mode_sampler_captures_one():
    out = _compute("modes", {"fake.points": _ring_samples([3])}, dataset="toy2d-ring8")
    assert out["modes_captured"].value == 1
    assert out["reverse_kl"].value == pytest.approx(np.log(8))


def test_grid_modes_and_far_points_are_low_quality():
    centres, sigma = toy2d_modes("toy2d-grid25")
    pts = np.concatenate([centres, centres + 1.0])  # second half is 1.0 away from any mode
    out = fn.mixture_modes(pts, centres, sigma)
    assert out["modes_captured"] == 25 and out["high_quality_fraction"] == 0.5


def _digit_probs(labels: np.ndarray, seed: int) -> np.ndarray:
    logits = np.random.default_rng(seed).standard_normal((len(labels), 10)) + 6.0 * np.eye(10)[labels]
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)  # [N, 10]


def test_class_coverage_full_and_half():
    labels = load_dataset("digits-test").labels
    real = _digit_probs(labels, 0)
    full = _compute("modes", {"fake.class_probs": _digit_probs(labels, 1), "real.class_probs": real})
    half = _compute("modes", {"fake.class_probs": _digit_probs(labels[labels < 5], 2), "real.class_probs": real})
    assert full["classes_covered"].value == 10 and half["classes_covered"].value == 5
    assert full["class_kl"].value < 0.05 < half["class_kl"].value
    assert "modes_captured" not in full


def test_stacked_digit_modes():
    all_modes = np.stack([np.arange(1000) // 100, np.arange(1000) // 10 % 10, np.arange(1000) % 10], 1)
    out = _compute("modes", {"fake.channel_classes": all_modes})
    assert out["stacked_modes_captured"].value == 1000 and out["stacked_kl"].value == pytest.approx(0.0)
    assert fn.stacked_modes(np.zeros((50, 3), int))["stacked_kl"] == pytest.approx(np.log(1000))


def test_modes_unavailable_without_any_input():
    reason = METRICS.get("modes")().available(MetricInputs({"fake.points": np.zeros((3, 2))}, {"dataset": None}))
    assert reason is not None and "fake.class_probs" in reason


def test_ndb_small_for_same_distribution_large_for_collapse():
    real = _gauss(12, 1000, 4)
    same = _compute("ndb", {"fake.embedding": _gauss(13, 1000, 4), "real.embedding": real}, params={"bins": 10})
    collapsed = _compute("ndb", {"fake.embedding": _gauss(14, 1000, 4) * 0.2, "real.embedding": real},
                         params={"bins": 10})
    assert same["ndb"].value <= 3 < collapsed["ndb"].value
    assert same["ndb_js"].value < collapsed["ndb_js"].value <= np.log(2)


# ---- memorisation -------------------------------------------------------------------------------------
def test_duplicating_samples_raises_the_duplicate_rate():
    real, fake = _gauss(15, 400, 8), _gauss(16, 400, 8)
    dup = fake.copy()
    dup[200:] = dup[:200]
    base = _compute("duplicates", {"fake.embedding": fake, "real.embedding": real})
    more = _compute("duplicates", {"fake.embedding": dup, "real.embedding": real})
    assert more["duplicate_rate"].value == 1.0 > base["duplicate_rate"].value
    assert more["duplicate_pair_rate"].value > base["duplicate_pair_rate"].value
    birthday = more["duplicate_rate"].details["birthday"]
    assert 0 < birthday["16"] < birthday["128"] <= 1


def test_copying_training_items_raises_copy_rate_and_lowers_c_t():
    train, held = _gauss(17, 1000, 6), _gauss(18, 400, 6)
    fresh = _gauss(19, 400, 6)
    copies = train[:400] + 1e-6
    arrays = {"train.embedding": train, "heldout.embedding": held}
    base = _compute("copying", dict(arrays, **{"fake.embedding": fresh}))
    copied = _compute("copying", dict(arrays, **{"fake.embedding": copies}))
    assert copied["copy_rate"].value == 1.0 > base["copy_rate"].value
    assert copied["c_t"].value < -5 < base["c_t"].value
    assert copied["c_t"].details["cells_used"] >= 1


def test_mann_whitney_z_sign():
    assert fn.mann_whitney_z(np.zeros(30), np.ones(30)) < 0 < fn.mann_whitney_z(np.ones(30), np.zeros(30))


# ---- SSIM ---------------------------------------------------------------------------------------------
def test_ssim_recon_identical_is_one_and_paired_bootstrap():
    imgs = load_dataset("digits-test").data[:40]  # [40, 3, 8, 8] uint8
    noisy = np.clip(imgs.astype(int) + np.random.default_rng(0).integers(-30, 30, imgs.shape), 0, 255)
    assert _compute("ssim_recon", {"fake.images": imgs, "real.images": imgs})["ssim_recon"].value == 1.0
    out = _compute("ssim_recon", {"fake.images": noisy.astype(np.uint8), "real.images": imgs},
                   MetricConfig(bootstrap=30))["ssim_recon"]
    assert out.details["window"] == 7 and out.ci95[0] <= out.value <= out.ci95[1] < 1.0


def test_ssim_diversity_reports_fake_and_real():
    digits = load_dataset("digits-test").data
    collapsed = np.repeat(digits[:1], 50, axis=0)
    out = _compute("ssim_diversity", {"fake.images": collapsed, "real.images": digits},
                   params={"pairs": 200})
    assert out["ssim_diversity"].value == 1.0 > out["ssim_diversity_ref"].value
    assert out["ssim_diversity_ref"].std > 0


def test_ssim_recon_needs_equal_counts():
    imgs = load_dataset("digits-test").data
    with pytest.raises(ConfigError, match="fake.images=10, real.images=12"):
        _compute("ssim_recon", {"fake.images": imgs[:10], "real.images": imgs[:12]})


# ---- bootstrap and errors -----------------------------------------------------------------------------
def test_bootstrap_interval_narrows_with_more_samples():
    cfg = MetricConfig(bootstrap=40, seed=3)
    widths = []
    for n in (60, 600):
        out = _compute("fd", {"fake.embedding": _gauss(20, n, 3, 0.5), "real.embedding": _gauss(21, n, 3)}, cfg)
        lo, hi = out["fd"].ci95
        widths.append(hi - lo)
        assert out["fd"].details["bootstrap"] == 40 and out["fd"].std > 0
    assert widths[1] < widths[0] / 2


@pytest.mark.parametrize("name,arrays,match", [
    ("fd", {"fake.embedding": np.zeros((1, 4)), "real.embedding": np.zeros((50, 4))}, r"'fd'.*fake.embedding=1"),
    ("pr", {"fake.embedding": np.zeros((3, 4)), "real.embedding": np.zeros((50, 4))}, r"'pr'.*fake.embedding=3"),
    ("is", {"fake.logits": np.zeros((12, 10))}, r"'is'.*fake.logits=12"),
    ("dc", {"fake.embedding": np.zeros((30, 4)), "real.embedding": np.zeros((5, 4))}, r"'dc'.*real.embedding=5"),
])
def test_too_few_samples_raise_naming_metric_and_counts(name, arrays, match):
    with pytest.raises(NotEnoughSamplesError, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _compute(name, arrays)


def test_every_metric_declares_directions_for_its_outputs():
    for name, cls in METRICS.items():
        assert set(cls.higher_is_better) == set(cls.outputs), name
        assert cls.definition and cls.needs, name


# ---- invariance ---------------------------------------------------------------------------------------
@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_set_metrics_invariant_to_row_order(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((60, 5)), rng.standard_normal((50, 5)) + 0.3
    pr, pf = rng.permutation(60), rng.permutation(50)
    assert fn.frechet_distance_features(fake[pf], real[pr]) == pytest.approx(fn.frechet_distance_features(fake, real))
    assert fn.prdc(real[pr], fake[pf]) == fn.prdc(real, fake)
    assert fn.cmmd(fake[pf], real[pr]) == pytest.approx(fn.cmmd(fake, real), rel=1e-9, abs=1e-12)
