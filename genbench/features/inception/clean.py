"""`inception-v3-clean`: clean-fid's "clean" mode (Parmar et al. 2022, "On Aliased Resizing and Surprising
Subtleties in GAN Evaluation"; reference code GaParmar/clean-fid, `cleanfid/resize.py` and `features.py`).

Preprocessing, as clean-fid's `build_resizer("clean")` = `make_resizer("PIL", False, "bicubic", (299, 299))`:
each channel of the uint8 image becomes a float32 PIL image (mode 'F'), is resized to 299x299 with PIL's
antialiased bicubic filter, clipped to [0, 255] and kept in float (no re-quantisation); then (x - 128) / 128
as clean-fid's `InceptionV3W.forward` does before the network.

Network: the TF 2015-12-05 Inception-v3 with the same weights file as `inception-v3-tf`. clean-fid runs
StyleGAN2-ADA's TorchScript export of that graph (`inception-2015-12-05.pt`, downloaded at first use);
genbench runs torch-fidelity's port of the same graph and weights. The parity test feeds clean-fid's own
resizer, dataset and wrapper a TorchScript trace of torch-fidelity's network, so every step is clean-fid's code
except the network file, which cannot be fetched offline. Features: pool3 (2048-d, the FID/KID input) and the
1008 logits without bias (IS), as for `inception-v3-tf`.

Use `inception-v3-tf` (protocol `tf-fid50k`) to compare with papers that used the TF/pytorch-fid/torch-fidelity
FID (DDPM, ADM, LDM, most tables); use this one (`clean-fid50k`) for numbers comparable with clean-fid's
leaderboards, which are robust to the aliasing of the TF bilinear resize.
"""
from __future__ import annotations

from importlib.metadata import version as _pkg_version

import numpy as np
import torch
from PIL import Image

from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo
from genbench.features.inception.tf import TFInceptionBase, build_tf_inception
from genbench.features.inception.net import SIZE, normalise


def clean_resize(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """uint8 [3, H, W] -> float32 [3, size, size]: per-channel PIL 'F' bicubic (antialiased), clipped to 0..255."""
    out = np.empty((image.shape[0], size, size), dtype=np.float32)
    for c in range(image.shape[0]):
        channel = Image.fromarray(image[c].astype(np.float32))  # mode 'F'
        out[c] = np.asarray(channel.resize((size, size), resample=Image.Resampling.BICUBIC)).clip(0, 255)
    return out


class InceptionV3Clean(TFInceptionBase):
    name = "inception-v3-clean"
    version = f"1/torch-fidelity-{_pkg_version('torch-fidelity')}/pillow-{_pkg_version('pillow')}"
    preprocess = ("uint8 -> float32 per channel; PIL bicubic resize with antialiasing to 299x299 in float "
                  "(mode 'F'), clipped to [0, 255], not re-quantised; (x - 128) / 128 (clean-fid 'clean' mode)")

    def prepare(self, batch: torch.Tensor) -> torch.Tensor:
        arr = batch.cpu().numpy()  # [B, 3, H, W] uint8
        resized = np.stack([clean_resize(img) for img in arr])  # [B, 3, 299, 299] float32
        return normalise(torch.from_numpy(resized).to(self.device))


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    return build_tf_inception(InceptionV3Clean, device, weights, path)


EXTRACTORS.add("inception-v3-clean", ExtractorSpec(
    name="inception-v3-clean", build=_build, weights_name="inception-v3-tf", outputs=InceptionV3Clean.outputs,
    description="TF Inception-v3 with clean-fid's PIL bicubic (antialiased) resize: pool3 2048-d, 1008 logits",
    traits=frozenset({"inception"}),
))
