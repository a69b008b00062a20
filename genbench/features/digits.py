"""`digits-classifier`: a small CNN on the built-in 8x8 digits, weights shipped with genbench.

Plays the role the MNIST classifier plays in Stacked MNIST mode counting (VEEGAN, Srivastava et al. 2017;
PacGAN, Lin et al. 2018) and the Inception network plays in IS/FID, at the scale of the digits data.
Trained by scripts/train_digits_classifier.py (fixed seed, CPU); the safetensors file's sha256, test accuracy
and seed are in genbench/assets/digits_classifier.json and the hash is checked at every load.
Input: uint8 [B, 3, H, W] -> float/255 -> mean over channels -> [B, 1, 8, 8] (nearest resize if H, W != 8).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.errors import InputError, WeightsError
from genbench.features.base import EXTRACTORS, Derived, ExtractorSpec, FeatureExtractor, WeightsInfo

ASSETS = Path(__file__).resolve().parent.parent / "assets"
WEIGHTS_FILE = ASSETS / "digits_classifier.safetensors"
RECORD_FILE = ASSETS / "digits_classifier.json"
WEIGHTS_NAME = "digits-classifier"
SIZE = 8
EMBED_DIM = 64
NUM_CLASSES = 10


class DigitsCNN(nn.Module):
    """conv3x3(1->32) -> conv3x3(32->64) -> maxpool2 -> fc(1024->64) -> fc(64->10); ReLU between."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 4 * 4, EMBED_DIM)
        self.fc2 = nn.Linear(EMBED_DIM, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """float [B, 1, 8, 8] in 0..1 -> (embedding [B, 64], logits [B, 10])."""
        h = F.relu(self.conv1(x))  # [B, 32, 8, 8]
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # [B, 64, 4, 4]
        emb = F.relu(self.fc1(h.flatten(1)))  # [B, 64]
        return emb, self.fc2(emb)  # [B, 64], [B, 10]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[1]


def to_gray8(batch: torch.Tensor) -> torch.Tensor:
    """uint8 [B, C, H, W] -> float32 [B, 1, 8, 8]: /255, channel mean, nearest resize to 8x8 if needed."""
    x = batch.float().div(255.0).mean(dim=1, keepdim=True)  # [B, 1, H, W]
    if x.shape[-2:] != (SIZE, SIZE):
        x = F.interpolate(x, size=(SIZE, SIZE), mode="nearest")
    return x


def expected_sha256(record: Path = RECORD_FILE) -> str:
    try:
        return json.loads(record.read_text())["sha256"]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise WeightsError(f"{record}: cannot read the digits classifier record ({e})") from None


def load_classifier(path: Path = WEIGHTS_FILE, sha256: str | None = None) -> tuple[DigitsCNN, WeightsInfo]:
    """Load weights after checking the file's sha256 against the record (a mismatch is a WeightsError)."""
    from safetensors.torch import load_file

    from genbench.features.weights import sha256_file

    if not path.is_file():
        raise WeightsError(f"{path}: the shipped digits classifier is missing; reinstall genbench or run "
                           "scripts/train_digits_classifier.py")
    want = sha256 or expected_sha256()
    got = sha256_file(path)
    if got != want:
        raise WeightsError(f"{path}: sha256 {got} does not match {want} recorded in {RECORD_FILE.name}")
    model = DigitsCNN()
    model.load_state_dict(load_file(str(path)), strict=True)
    return model.eval().requires_grad_(False), WeightsInfo(WEIGHTS_NAME, got, True, str(path))


class DigitsClassifier(FeatureExtractor):
    name = "digits-classifier"
    version = "1"
    outputs = ("embedding", "logits")
    dims = {"embedding": EMBED_DIM, "logits": NUM_CLASSES}
    preprocess = ("uint8 -> float/255, mean over channels -> 1x8x8 (nearest resize to 8x8 when the input is "
                  "another size)")

    def __init__(self, device: torch.device, model: DigitsCNN, weights: WeightsInfo) -> None:
        super().__init__(device, weights)
        self.model = model.to(device)

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        emb, logits = self.model.features(to_gray8(batch))  # [B, 64], [B, 10]
        return {"embedding": emb, "logits": logits}


@functools.lru_cache(maxsize=4)
def _cached(device: str) -> DigitsClassifier:
    model, info = load_classifier()
    return DigitsClassifier(torch.device(device), model, info)


def _check_images(images: np.ndarray) -> np.ndarray:
    a = np.asarray(images)
    if a.dtype != np.uint8 or a.ndim != 4 or a.shape[1] != 3:
        raise InputError(f"images: expected uint8 [N, 3, H, W], got {a.dtype} {list(a.shape)}")
    return a


def _logits(images: np.ndarray, device: str, batch_size: int) -> np.ndarray:
    ext = _cached(str(torch.device(device)))
    parts = [out["logits"] for out in ext.run_batches(images[i:i + batch_size]
                                                      for i in range(0, len(images), batch_size))]
    return np.concatenate(parts) if parts else np.zeros((0, NUM_CLASSES), np.float32)  # [N, 10] float32


def class_probs(images: np.ndarray, device: str = "cpu", batch_size: int = 1024) -> np.ndarray:
    """Softmax class probabilities (computed in float64) of uint8 [N, 3, H, W] images -> float64 [N, 10]."""
    logits = torch.from_numpy(_logits(_check_images(images), device, batch_size)).double()
    return torch.softmax(logits, dim=1).numpy()


def classify_channels(images: np.ndarray, device: str = "cpu", batch_size: int = 1024) -> np.ndarray:
    """Label each channel of uint8 [N, 3, H, W] as its own digit -> int64 [N, 3] (stacked-digits modes)."""
    a = _check_images(images)
    n, _, h, w = a.shape
    gray = np.repeat(a.reshape(n * 3, 1, h, w), 3, axis=1)  # [3N, 3, H, W]: each channel as a gray image
    return _logits(gray, device, batch_size).argmax(axis=1).astype(np.int64).reshape(n, 3)


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    model, info = load_classifier(Path(path)) if path else load_classifier()
    return DigitsClassifier(device, model, info)


def _class_probs(ctx) -> np.ndarray:
    from genbench.numerics import softmax64

    return softmax64(ctx.role("logits"))  # [N, 10] float64


def _channel_classes(ctx) -> np.ndarray:
    return classify_channels(ctx.images(), str(ctx.device))  # [N, 3] int64


EXTRACTORS.add("digits-classifier", ExtractorSpec(
    name="digits-classifier", build=_build, weights_name=None, outputs=DigitsClassifier.outputs,
    description="small CNN trained on digits-train (weights shipped): 64-d penultimate embedding, 10 logits",
    # whole-image classes mean nothing on stacked digits: there each channel is labelled on its own
    provides={"class_probs": Derived(("logits",), _class_probs, unless="stacked-channels"),
              "channel_classes": Derived(("images",), _channel_classes, when="stacked-channels")},
    shipped_sha256=expected_sha256,
))
