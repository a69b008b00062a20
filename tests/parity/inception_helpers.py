"""Test helpers: torch-fidelity's Inception-v3 architecture with seeded random weights.

The real TF-2015 weights cannot be downloaded in CI, so parity tests build the exact torch-fidelity
network with random weights and load the same file into both implementations. Convolutions get
Kaiming-normal weights and the batch-norm layers small random affine terms; their running statistics are
then recalibrated on a few seeded images (one train-mode pass with cumulative averages), so that every
channel is standardised across images and pool3 features vary clearly from image to image.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

TF_NAME = "inception-v3-compat"  # torch-fidelity's registry name for this network
FEATURES = ("2048", "logits_unbiased")


class _Skeleton(FeatureExtractorInceptionV3):
    """The torch-fidelity network without its weight loading (load_state_dict is a no-op here)."""

    def load_state_dict(self, state_dict, strict=True, assign=False):  # noqa: D401, ARG002
        return None


def _skeleton() -> torch.nn.Module:
    with tempfile.TemporaryDirectory() as d:
        empty = Path(d) / "empty.pth"
        torch.save({}, empty)
        return _Skeleton(TF_NAME, list(FEATURES), feature_extractor_weights_path=str(empty))


def _init_(net: torch.nn.Module, gen: torch.Generator) -> None:
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
        elif isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
            m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
        elif isinstance(m, torch.nn.Linear):
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / math.sqrt(m.in_features))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def _recalibrate_bn_(net: torch.nn.Module, images: torch.Tensor) -> None:
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration pass
    net.train()
    with torch.no_grad():
        net(images)
    net.eval()


def random_inception_weights(path: Path | str, seed: int = 0, calibration_images: int = 12) -> Path:
    """Write a state dict for torch-fidelity's FeatureExtractorInceptionV3 with seeded random weights."""
    net = _skeleton()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        _init_(net, gen)
    _recalibrate_bn_(net, torch.from_numpy(smooth_images(calibration_images, size=32, seed=10_000 + seed)))
    path = Path(path)
    torch.save(torch.nn.Module.state_dict(net), path)
    return path


def torch_fidelity_inception(weights_path: Path | str) -> FeatureExtractorInceptionV3:
    """torch-fidelity's own extractor, loaded from a weights file (features '2048', 'logits_unbiased')."""
    return FeatureExtractorInceptionV3(TF_NAME, list(FEATURES), feature_extractor_weights_path=str(weights_path))


def smooth_images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """uint8 [n, 3, size, size]: random low-frequency colour fields plus noise (varied, image-like)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(n, 3, 4, 4))
    x = torch.nn.functional.interpolate(torch.from_numpy(coarse), size=(size, size), mode="bicubic",
                                        align_corners=False).numpy()  # [n, 3, size, size] float64
    x = x + rng.normal(0, 12, size=x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


class TensorDataset(torch.utils.data.Dataset):
    """torch-fidelity input: a Dataset returning uint8 [3, H, W] tensors."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = torch.from_numpy(np.ascontiguousarray(images))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def torch_fidelity_metrics(fake: np.ndarray, real: np.ndarray, weights_path: Path | str, *, splits: int = 2,
                           kid_subset_size: int | None = None) -> dict[str, float]:
    """torch-fidelity's FID, KID and IS for two uint8 [N, 3, H, W] sets, on CPU, nothing cached."""
    import torch_fidelity

    return torch_fidelity.calculate_metrics(
        input1=TensorDataset(fake), input2=TensorDataset(real), cuda=False, batch_size=16,
        feature_extractor=TF_NAME, feature_extractor_weights_path=str(weights_path),
        isc=True, fid=True, kid=True, isc_splits=splits,
        kid_subset_size=kid_subset_size or min(len(fake), len(real)), kid_subsets=10,
        cache=False, save_cpu_ram=True, verbose=False, samples_shuffle=False,
    )
