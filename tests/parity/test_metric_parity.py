"""Parity of genbench's metric maths with the reference implementations, on identical inputs.

torch-fidelity (FID, KID, IS), pytorch-fid and clean-fid (FD), prdc (precision/recall, density/coverage),
scikit-image (SSIM), torchmetrics (CLIP score), and the direct formulas (Vendi, CMMD).
"""
from __future__ import annotations

import contextlib
import io
import types

import numpy as np
import pytest
import torch

from genbench.metrics import functional as fn


def _features(seed: int, n: int, d: int, shift: float = 0.0, mix: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))  # [n, d] float64
    return x @ (np.eye(d) + mix * rng.standard_normal((d, d))) + shift


@pytest.fixture(scope="module")
def fd_stats():
    a, b = _features(0, 700, 64), _features(1, 500, 64, shift=0.3, mix=0.15)
    return fn.feature_stats(a) + fn.feature_stats(b)


def test_fd_matches_torch_fidelity(fd_stats):
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    m1, s1, m2, s2 = fd_stats
    ref = fid_statistics_to_metric({"mu": m1, "sigma": s1}, {"mu": m2, "sigma": s2}, False)
    assert fn.frechet_distance(m1, s1, m2, s2) == pytest.approx(ref["frechet_inception_distance"], rel=1e-6)


def test_fd_matches_pytorch_fid_and_clean_fid(fd_stats):
    from cleanfid.fid import frechet_distance as clean_fd
    from pytorch_fid.fid_score import calculate_frechet_distance

    value = fn.frechet_distance(*fd_stats)
    assert value == pytest.approx(calculate_frechet_distance(*fd_stats), rel=1e-6)
    assert value == pytest.approx(clean_fd(*fd_stats), rel=1e-6)


def test_fd_features_match_torch_fidelity_statistics():
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    a, b = _features(2, 400, 32), _features(3, 300, 32, shift=0.1)
    sa, sb = fid_features_to_statistics(torch.tensor(a)), fid_features_to_statistics(torch.tensor(b))
    ref = fid_statistics_to_metric(sa, sb, False)["frechet_inception_distance"]
    assert fn.frechet_distance_features(a, b) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("shuffle,seed", [(False, 0), (True, 2020), (True, 7)])
def test_inception_score_matches_torch_fidelity(shuffle, seed):  # modes "tf" (no shuffle), "torch-fidelity"
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = 3.0 * np.random.default_rng(4).standard_normal((503, 1008))  # [N, 1008], N not divisible
    ref = isc_features_to_metric(torch.tensor(logits, dtype=torch.float32), 10, shuffle, seed)
    mean, std = fn.inception_score(logits.astype(np.float32), 10, mode="torch-fidelity" if shuffle else "tf",
                                   seed=seed)
    assert mean == pytest.approx(ref["inception_score_mean"], rel=1e-5)
    assert std == pytest.approx(ref["inception_score_std"], rel=1e-5, abs=1e-9)


def test_kid_matches_torch_fidelity_when_subset_is_whole_set():
    from torch_fidelity.metric_kid import kid_features_to_metric

    x, y = _features(5, 150, 48), _features(6, 150, 48, shift=0.2)
    kw = dict(kid_subsets=3, kid_subset_size=150, verbose=False, rng_seed=1, kid_kernel="poly",
              kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    ref = kid_features_to_metric(torch.tensor(x), torch.tensor(y), **kw)
    mean, std, m = fn.kernel_inception_distance(x, y, subsets=3, subset_size=1000, seed=0)
    assert m == 150
    assert mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)


KID_POLY = dict(kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)


@pytest.mark.parametrize("d", [48, 2048])  # 1/d inexact in float32, and Inception's width (1/d exact)
def test_kid_float32_subsets_equal_torch_fidelitys_bit_for_bit(d):
    """precision "float32" (kid's default) is torch-fidelity's numerics: on the same rows in the same order, a
    subset's MMD² equals torch_fidelity/metric_kid.py's `kernel_mmd` (its `kernel_poly` and unbiased `mmd2` on
    float32 features) exactly, and the mean over genbench's subsets is the mean of those values."""
    from torch_fidelity.metric_kid import kernel_mmd

    from genbench.metrics.functional.kd_counts import subset_rows

    x, y = (_features(5, 150, d).astype(np.float32), _features(6, 140, d, shift=0.2).astype(np.float32))
    rows = subset_rows(150, 140, 4, 100, 0)
    theirs = [float(kernel_mmd(x[i], y[j], **KID_POLY)) for i, j in rows]
    assert [fn.mmd2_unbiased_poly(x[i], y[j], precision="float32") for i, j in rows] == theirs
    assert fn.kernel_inception_distance(x, y, 4, 100, 0, precision="float32")[0] == np.mean(theirs)
    assert fn.kernel_inception_distance(x, y, 4, 100, 0)[0] != np.mean(theirs)  # float64: the other convention


def test_kid_default_equals_kid_features_to_metric_on_the_same_subset():
    """End to end: `kid` with its defaults but one subset of the whole sets equals 1000 × torch-fidelity's
    kid_features_to_metric when both take the same rows in the same order. torch-fidelity permutes with
    RandomState(rng_seed).choice, so its inputs are laid out for its permutation to yield genbench's subset."""
    from torch_fidelity.metric_kid import kid_features_to_metric

    from genbench.metrics import METRICS, MetricConfig, MetricInputs, load_all
    from genbench.metrics.functional.kd_counts import subset_rows

    load_all()
    n, seed = 120, 3
    x, y = (np.abs(_features(s, n, 2048, shift=sh)).astype(np.float32) for s, sh in ((7, 0.1), (8, 0.0)))
    (i, j), = subset_rows(n, n, 1, n, seed)
    rs = np.random.RandomState(1)
    pi, pj = rs.choice(n, n, replace=False), rs.choice(n, n, replace=False)  # torch-fidelity's draws
    xt, yt = np.empty_like(x), np.empty_like(y)
    xt[pi], yt[pj] = x[i], y[j]  # xt[pi] is genbench's subset x[i]
    ref = kid_features_to_metric(torch.from_numpy(xt), torch.from_numpy(yt), kid_subsets=1, kid_subset_size=n,
                                 verbose=False, rng_seed=1, **KID_POLY)["kernel_inception_distance_mean"]
    kid = METRICS.get("kid")
    got = kid(kid.Params(subsets=1, subset_size=n)).point(
        MetricInputs({"fake.embedding": x, "real.embedding": y}), MetricConfig(seed=seed))["kid"]
    assert got.value == 1000.0 * ref and got.details["precision"] == "float32"


def _prdc_reference(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    import prdc

    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
        return prdc.compute_prdc(real, fake, k)


@pytest.mark.parametrize("k", [3, 5])
def test_density_coverage_equal_prdc(k):
    real, fake = _features(7, 400, 24), _features(8, 350, 24, shift=0.2, mix=0.1)
    ref = _prdc_reference(real, fake, k)
    density, coverage = fn.density_coverage(real, fake, k)
    assert density == ref["density"]
    assert coverage == ref["coverage"]


@pytest.mark.parametrize("k", [3, 5])
def test_precision_recall_equal_prdc_on_continuous_features(k):
    real, fake = _features(9, 380, 16), _features(10, 420, 16, shift=0.3)
    ref = _prdc_reference(real, fake, k)
    assert fn.precision_recall(real, fake, k) == (ref["precision"], ref["recall"])


def _ssim_reference(a: np.ndarray, b: np.ndarray, win: int, channel_axis: int | None) -> float:
    from skimage.metrics import structural_similarity

    return structural_similarity(a.astype(np.float64), b.astype(np.float64), gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=255, channel_axis=channel_axis,
                                 win_size=win)


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 23, 17), (1, 16, 16), (3, 8, 8), (3, 7, 12), (3, 5, 5)])
def test_ssim_matches_skimage(shape):
    rng = np.random.default_rng(11)
    a = rng.integers(0, 256, (3,) + shape).astype(np.uint8)  # [3, C, H, W]
    b = np.clip(a.astype(int) + rng.integers(-60, 60, a.shape), 0, 255).astype(np.uint8)
    values, win = fn.ssim_pairs(a, b)
    side = min(shape[1:])
    assert win == (11 if side >= 11 else side - (1 - side % 2))  # largest odd window that fits
    for i in range(3):
        ref = _ssim_reference(a[i], b[i], win, 0) if shape[0] == 3 else _ssim_reference(a[i, 0], b[i, 0], win, None)
        assert values[i] == pytest.approx(ref, abs=1e-6)


def test_ssim_grayscale_hw_input_and_window_record():
    rng = np.random.default_rng(12)
    a = rng.integers(0, 256, (2, 9, 14)).astype(np.uint8)  # [N, H, W] grayscale
    b = rng.integers(0, 256, (2, 9, 14)).astype(np.uint8)
    values, win = fn.ssim_pairs(a, b)
    assert win == 9
    assert values[1] == pytest.approx(_ssim_reference(a[1], b[1], 9, None), abs=1e-6)


class _OpenClipAdapter(torch.nn.Module):
    """torchmetrics' (model, processor) interface over a seeded random open_clip ViT-B-32."""

    def __init__(self) -> None:
        import open_clip

        super().__init__()
        torch.manual_seed(0)
        self.clip = open_clip.create_model("ViT-B-32", pretrained=None).eval()
        self.config = types.SimpleNamespace()
        self.tokenizer = open_clip.get_tokenizer("ViT-B-32")

    def get_image_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.clip.encode_image(pixel_values)

    def get_text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.clip.encode_text(input_ids)

    def processor(self, images=None, text=None, **_: object) -> dict:
        if images is not None:
            return {"pixel_values": torch.stack([i.float() / 255.0 for i in images])}
        ids = self.tokenizer(text)
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def test_clip_score_matches_torchmetrics():
    from torchmetrics.functional.multimodal.clip_score import clip_score as tm_clip_score

    adapter = _OpenClipAdapter()
    images = torch.randint(0, 256, (3, 3, 224, 224), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    prompts = ["a photo of a cat", "a red car", "two dogs"]
    ref = float(tm_clip_score(list(images), prompts, lambda: (adapter, adapter.processor)))
    img = adapter.get_image_features(adapter.processor(images=list(images))["pixel_values"]).double().numpy()
    txt = adapter.get_text_features(**adapter.processor(text=prompts)).double().numpy()
    cos = fn.clip_cosines(img, txt)  # [3]
    assert max(100.0 * cos.mean(), 0.0) == pytest.approx(ref, rel=1e-5, abs=1e-4)  # torchmetrics clamps the mean
    assert fn.clip_score(img, txt) == pytest.approx(np.mean(100.0 * np.clip(cos, 0, None)), rel=1e-12)
    assert fn.clip_score(img, txt, 2.5) == pytest.approx(np.mean(2.5 * np.clip(cos, 0, None)), rel=1e-12)


def test_vendi_gram_trick_equals_direct_eigenvalues():
    for n, d in [(50, 8), (20, 64)]:
        x = _features(13, n, d)
        assert fn.vendi_score(x) == pytest.approx(fn.vendi_score_direct(x), rel=1e-9)


def test_cmmd_unbiased_equals_dense_unbiased_formula():
    x, y = _features(14, 60, 10) / 3, _features(15, 45, 10, shift=0.5) / 3
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * 10.0**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    ref = (kxx.sum() - np.trace(kxx)) / (60 * 59) + (kyy.sum() - np.trace(kyy)) / (45 * 44) - 2 * kxy.mean()
    assert fn.cmmd(x, y, estimator="unbiased") == pytest.approx(1000 * ref, rel=1e-9)
