"""Extractors: digits classifier accuracy and shipped hash, pixels, CLIP with random weights, registry errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from genbench.data import load_dataset
from genbench.errors import ConfigError, UnknownNameError, WeightsError
from genbench.features import digits
from genbench.features.extract import build_extractor, extract
from genbench.features.weights import sha256_file


# ---- digits classifier ----------------------------------------------------------------------------
def test_digits_shipped_sha256_matches_record() -> None:
    record = json.loads(digits.RECORD_FILE.read_text())
    assert sha256_file(digits.WEIGHTS_FILE) == record["sha256"]
    assert record["test_accuracy"] >= 0.97 and "training_seed" in record


def test_digits_classifier_accuracy() -> None:
    ds = load_dataset("digits-test")
    ext = build_extractor("digits-classifier", device="cpu")
    feats = extract(ext, "digits-test", batch_size=128)
    assert feats["embedding"].shape == (len(ds.data), digits.EMBED_DIM) and feats["embedding"].dtype == np.float32
    acc = float((feats["logits"].argmax(1) == ds.labels).mean())
    assert acc >= 0.97, acc
    assert ext.weights.verified and ext.weights.sha256 == digits.expected_sha256()


def test_digits_helpers_and_resize() -> None:
    ds = load_dataset("digits-test")
    x = np.array(ds.data[:20])
    probs = digits.class_probs(x)
    assert probs.dtype == np.float64 and probs.shape == (20, 10) and np.allclose(probs.sum(1), 1.0)
    big = np.repeat(np.repeat(x, 4, axis=2), 4, axis=3)  # [20, 3, 32, 32]: nearest upsampling
    assert np.array_equal(digits.class_probs(big).argmax(1), probs.argmax(1))
    stacked = np.stack([x[:10, 0], x[10:, 0], x[::2, 0]], axis=1)  # [10, 3, 8, 8]: a digit per channel
    labels = digits.classify_channels(stacked)
    assert labels.dtype == np.int64 and labels.shape == (10, 3)
    pred = probs.argmax(1)
    assert np.array_equal(labels, np.stack([pred[:10], pred[10:], pred[::2]], axis=1))


def test_digits_hash_mismatch_is_weights_error(tmp_path: Path) -> None:
    bad = tmp_path / "digits.safetensors"
    bad.write_bytes(digits.WEIGHTS_FILE.read_bytes()[:-1] + b"\x00")
    with pytest.raises(WeightsError, match="does not match"):
        digits.load_classifier(bad)


# ---- pixels and registry --------------------------------------------------------------------------
def test_pixels() -> None:
    x = np.random.default_rng(0).integers(0, 256, (5, 3, 4, 6), dtype=np.uint8)
    ext = build_extractor("pixels", device="cpu")
    feats = extract(ext, x, batch_size=2)
    assert list(feats) == ["embedding"] and feats["embedding"].shape == (5, 72)
    np.testing.assert_array_equal(feats["embedding"], x.reshape(5, -1).astype(np.float32) / 255)
    assert ext.weights.verified and ext.weights.name is None and ext.record()["extractor"] == "pixels"


def test_unknown_extractor_suggests() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'pixels'"):
        build_extractor("pixel", device="cpu")


def test_weights_path_refused_for_weightless(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="takes no weights file"):
        build_extractor("pixels", device="cpu", weights_path=tmp_path / "x")


def test_missing_weights_for_clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="genbench weights import clip-vit-b-32 PATH"):
        build_extractor("clip-vit-b-32", device="cpu")


# ---- CLIP with seeded random weights --------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from genbench.features.clip import clip_architecture

    torch.manual_seed(0)
    model = clip_architecture()
    path = tmp_path_factory.mktemp("clip") / "random-vit-b-32.pt"
    torch.save(model.state_dict(), path)
    return path


def test_clip_random_weights_unit_norm(clip_weights: Path) -> None:
    ext = build_extractor("clip-vit-b-32", device="cpu", weights_path=clip_weights, allow_unverified=True)
    assert ext.weights.verified is False and ext.record()["weights_verified"] is False
    x = np.random.default_rng(1).integers(0, 256, (3, 3, 32, 48), dtype=np.uint8)
    emb = extract(ext, x, batch_size=2)["embedding"]
    assert emb.shape == (3, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert np.std(emb, axis=0).mean() > 1e-3  # images give different embeddings
    text = ext.encode_text(["a photo of a cat", "a digit seven", "x" * 500])
    assert text.shape == (3, 512) and text.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)


def test_clip_unverified_refused_by_default(clip_weights: Path) -> None:
    with pytest.raises(WeightsError, match="allow-unverified-weights"):
        build_extractor("clip-vit-b-32", device="cpu", weights_path=clip_weights)


@pytest.mark.parametrize("size", [(32, 32), (8, 8), (250, 400), (224, 224)])
def test_clip_tensor_preprocess_matches_open_clip(size: tuple[int, int]) -> None:
    import open_clip
    from PIL import Image

    from genbench.features.clip import IMAGE_SIZE, STD, preprocess_images

    pil = open_clip.image_transform(IMAGE_SIZE, is_train=False, mean=open_clip.OPENAI_DATASET_MEAN,
                                    std=open_clip.OPENAI_DATASET_STD)
    x = np.random.default_rng(sum(size)).integers(0, 256, (2, 3, *size), dtype=np.uint8)
    ref = torch.stack([pil(Image.fromarray(im.transpose(1, 2, 0))) for im in x])  # [2, 3, 224, 224]
    got = preprocess_images(torch.from_numpy(x))
    assert got.shape == ref.shape == (2, 3, 224, 224)
    diff = (got - ref).abs()
    assert diff.max() <= 2.01 / 255 / min(STD)  # at most two uint8 levels (PIL vs torch rounding)
    assert diff.mean() < 2e-4


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_clip_loads_torchscript_archives(tmp_path: Path) -> None:
    """OpenAI ships CLIP as a TorchScript archive with fp16 weights and three extra integer entries."""
    from genbench.features.clip import load_clip_state_dict

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.positional_embedding = torch.nn.Parameter(torch.randn(3).half())
            self.register_buffer("input_resolution", torch.tensor(224))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.positional_embedding.float()

    path = tmp_path / "tiny-jit.pt"
    torch.jit.script(Tiny()).save(str(path))
    sd = load_clip_state_dict(path)
    assert list(sd) == ["positional_embedding"] and sd["positional_embedding"].dtype == torch.float32
