"""genbench `inception-v3-tf` == torch-fidelity's FeatureExtractorInceptionV3 on the same weights and images.

The real TF weights are unavailable offline, so both load one file of seeded random weights (through genbench's
explicit `--weights` path with allow_unverified=True). Also: batch-size invariance, and torch-fidelity's own
FID/KID/IS run end to end on those weights (the lead's genbench.evaluate parity test builds on the helpers).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genbench.features.extract import build_extractor, extract
from tests.parity.inception_helpers import (random_inception_weights, smooth_images, torch_fidelity_inception,
                                            torch_fidelity_metrics)

N = 10


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_inception_weights(tmp_path_factory.mktemp("inception") / "random-inception.pth", seed=0)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return smooth_images(N, size=32, seed=3)  # [N, 3, 32, 32] uint8


@pytest.fixture(scope="module")
def genbench_features(weights_file: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    ext = build_extractor("inception-v3-tf", device="cpu", weights_path=weights_file, allow_unverified=True)
    assert ext.weights.verified is False and ext.weights.path == str(weights_file)
    return extract(ext, images, batch_size=N)


def test_features_not_collapsed(genbench_features: dict[str, np.ndarray]) -> None:
    emb = genbench_features["embedding"].astype(np.float64)  # [N, 2048]
    assert emb.shape == (N, 2048) and genbench_features["logits"].shape == (N, 1008)
    across = emb.std(axis=0).mean()
    assert across > 0.05 * np.abs(emb).mean(), across  # varies clearly from image to image


def test_matches_torch_fidelity(weights_file: Path, images: np.ndarray,
                                genbench_features: dict[str, np.ndarray]) -> None:
    net = torch_fidelity_inception(weights_file)
    with torch.inference_mode():
        pool3, logits = net(torch.from_numpy(images))
    np.testing.assert_array_equal(genbench_features["embedding"], pool3.numpy())
    np.testing.assert_array_equal(genbench_features["logits"], logits.numpy())


def test_batch_size_invariant(weights_file: Path, images: np.ndarray,
                              genbench_features: dict[str, np.ndarray]) -> None:
    ext = build_extractor("inception-v3-tf", device="cpu", weights_path=weights_file, allow_unverified=True)
    for bs in (1, 5):
        got = extract(ext, images, batch_size=bs)
        for role in ("embedding", "logits"):
            np.testing.assert_allclose(got[role], genbench_features[role], rtol=1e-5, atol=1e-5)


def test_refuses_unverified_by_default(weights_file: Path) -> None:
    from genbench.errors import WeightsError

    with pytest.raises(WeightsError, match="does not match"):
        build_extractor("inception-v3-tf", device="cpu", weights_path=weights_file)


def test_refuses_pickled_code_when_unverified(tmp_path: Path) -> None:
    from genbench.errors import WeightsError

    evil = tmp_path / "evil.pth"
    torch.save({"x": Path("/")}, evil)  # a non-tensor object: needs full unpickling
    with pytest.raises(WeightsError, match="refusing to unpickle"):
        build_extractor("inception-v3-tf", device="cpu", weights_path=evil, allow_unverified=True)


def test_torch_fidelity_metrics_run_on_random_weights(weights_file: Path, images: np.ndarray) -> None:
    other = smooth_images(N, size=32, seed=4)
    m = torch_fidelity_metrics(images, other, weights_file, splits=2)
    for key in ("frechet_inception_distance", "kernel_inception_distance_mean", "inception_score_mean"):
        assert np.isfinite(m[key]), m
    assert m["frechet_inception_distance"] > 0 and m["inception_score_mean"] >= 1.0


@pytest.mark.parametrize("overlap", [True, False])
def test_two_stage_overlap_on_or_off_gives_the_same_bits(weights_file: Path, images: np.ndarray,
                                                         genbench_features: dict[str, np.ndarray],
                                                         monkeypatch: pytest.MonkeyPatch, overlap: bool) -> None:
    import genbench.features.inception.tf as inc

    monkeypatch.setattr(inc, "spare_core", lambda: overlap)  # the background stage runs / does not
    ext = build_extractor("inception-v3-tf", device="cpu", weights_path=weights_file, allow_unverified=True)
    got = extract(ext, images[:6], batch_size=2)  # three batches: the pipeline has batches to overlap
    ref = extract(ext, images[:6], batch_size=2) if overlap else None
    net = torch_fidelity_inception(weights_file)
    with torch.inference_mode():
        pool3, _ = net(torch.from_numpy(images[:6]))
    np.testing.assert_allclose(got["embedding"], pool3.numpy(), rtol=0, atol=1e-5)  # batch 2 vs batch 6
    if ref is not None:
        np.testing.assert_array_equal(got["embedding"], ref["embedding"])
