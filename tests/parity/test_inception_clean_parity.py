"""genbench `inception-v3-clean` == clean-fid's "clean" feature pipeline on the same weights and images.

clean-fid's code runs unchanged: `get_files_features` (its ResizeDataset with `build_resizer("clean")`, PNG files
on disk, its DataLoader) and its `InceptionV3W` wrapper ((x - 128) / 128, then `layers`). Only the network file
differs: clean-fid downloads StyleGAN2-ADA's TorchScript `inception-2015-12-05.pt`, which is not available
offline, so the test writes a TorchScript trace of torch-fidelity's network (seeded random weights, the same
file genbench loads) under that name with the same `layers` entry point. What this proves: genbench's resize,
normalisation and feature read-out equal clean-fid's; the network is torch-fidelity's port of the TF graph.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genbench.features.extract import build_extractor, extract
from genbench.features.inception.clean import clean_resize
from genbench.features.inception.net import TRUNK
from tests.parity.inception_helpers import random_inception_weights, smooth_images, torch_fidelity_inception

cleanfid = pytest.importorskip("cleanfid")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit, used here as clean-fid uses it


class _Layers(torch.nn.Module):
    """torch-fidelity's network from its first convolution to pool3 (what InceptionV3W.layers computes)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in TRUNK:
            x = getattr(self.net, name)(x)
        return torch.flatten(x, 1)


class _Base(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.layers = _Layers(net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_inception_weights(tmp_path_factory.mktemp("inception") / "random-inception.pth", seed=0)


@pytest.fixture(scope="module")
def cleanfid_model(weights_file: Path, tmp_path_factory: pytest.TempPathFactory) -> torch.nn.Module:
    """clean-fid's InceptionV3W wrapper around a TorchScript file written where it expects its download."""
    from cleanfid.inception_torchscript import InceptionV3W

    tmp = tmp_path_factory.mktemp("cleanfid")
    base = _Base(torch_fidelity_inception(weights_file)).eval()
    torch.jit.save(torch.jit.trace(base, torch.zeros(1, 3, 299, 299)), str(tmp / "inception-2015-12-05.pt"))
    return InceptionV3W(str(tmp), download=False, resize_inside=False).eval()


def _cleanfid_features(images: np.ndarray, model: torch.nn.Module, tmp: Path) -> np.ndarray:
    from cleanfid.fid import get_files_features

    files = []
    for i, img in enumerate(images):  # uint8 [3, H, W] -> lossless PNG, read back by clean-fid
        files.append(tmp / f"{i:03d}.png")
        Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0))).save(files[-1])
    return get_files_features([str(f) for f in files], model=model, num_workers=0, batch_size=3,
                              device=torch.device("cpu"), mode="clean", verbose=False)


@pytest.mark.parametrize("shape", [(3, 32, 32), (2, 24, 40)])
def test_matches_cleanfid_pipeline(weights_file: Path, cleanfid_model: torch.nn.Module, tmp_path: Path,
                                   shape: tuple[int, int, int]) -> None:
    n, h, w = shape
    images = smooth_images(n, size=max(h, w), seed=5)[:, :, :h, :w]  # [n, 3, h, w] uint8
    theirs = _cleanfid_features(images, cleanfid_model, tmp_path)  # [n, 2048]
    ext = build_extractor("inception-v3-clean", device="cpu", weights_path=weights_file, allow_unverified=True)
    ours = extract(ext, images, batch_size=2)
    assert ours["embedding"].shape == (n, 2048) and ours["logits"].shape == (n, 1008)
    np.testing.assert_allclose(ours["embedding"], theirs, rtol=0, atol=1e-5)


def test_resize_equals_cleanfid_resizer() -> None:
    from cleanfid.resize import build_resizer

    img = smooth_images(1, size=37, seed=7)[0]  # [3, 37, 37] uint8
    theirs = build_resizer("clean")(np.ascontiguousarray(img.transpose(1, 2, 0)))  # [299, 299, 3] float32
    ours = clean_resize(img)  # [3, 299, 299] float32
    assert ours.dtype == np.float32 and theirs.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs.transpose(2, 0, 1))


def test_differs_from_tf_resize() -> None:
    """The two conventions are not the same preprocessing (aliased bilinear vs antialiased bicubic)."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    img = smooth_images(1, size=32, seed=8)  # [1, 3, 32, 32]
    tf = interpolate_bilinear_2d_like_tensorflow1x(torch.from_numpy(img).float(), size=(299, 299),
                                                   align_corners=False)[0].numpy()
    assert np.abs(clean_resize(img[0]) - tf).max() > 1.0
