"""`inception-v3-tf`: the TF-2015-12-05 Inception-v3 graph as ported by torch-fidelity.

Matches torch-fidelity's `FeatureExtractorInceptionV3` ('inception-v3-compat') exactly, because it *is* that
network: genbench only wraps it, loads the weights from the checksummed local store (never from the
network) and names the outputs. The TF-exact preprocessing lives in torch-fidelity's forward: uint8 -> float32,
TF1-compatible bilinear resize to 299x299 (align_corners=False, no antialias), then (x - 128) / 128.
Heusel et al. 2017 (FID), Salimans et al. 2016 (IS), Binkowski et al. 2018 (KID) use these features.
"""
from __future__ import annotations

from importlib.metadata import version as _pkg_version
from pathlib import Path

import torch

from genbench.errors import WeightsError
from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo

_TF_NAME = "inception-v3-compat"
_TF_FEATURES = ("2048", "logits_unbiased")  # pool3, logits without the fc bias (torch-fidelity's IS input)


class InceptionV3TF(FeatureExtractor):
    name = "inception-v3-tf"
    version = f"1/torch-fidelity-{_pkg_version('torch-fidelity')}"
    outputs = ("embedding", "logits")
    dims = {"embedding": 2048, "logits": 1008}
    preprocess = ("uint8 -> float32; TF1-compatible bilinear resize to 299x299 (align_corners=False, no "
                  "antialias); (x - 128) / 128 (torch-fidelity FeatureExtractorInceptionV3)")

    def __init__(self, device: torch.device, weights: WeightsInfo, path: str | Path) -> None:
        super().__init__(device, weights)
        if not weights.verified:
            _refuse_pickled_code(Path(path))
        self.net = _torch_fidelity_net(Path(path)).to(device)

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        pool3, logits = self.net(batch)  # [B, 2048] float32, [B, 1008] float32
        return {"embedding": pool3, "logits": logits}


def _torch_fidelity_net(path: Path) -> torch.nn.Module:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    try:
        return FeatureExtractorInceptionV3(_TF_NAME, list(_TF_FEATURES), feature_extractor_weights_path=str(path))
    except (RuntimeError, KeyError, EOFError, OSError) as e:
        raise WeightsError(f"{path}: not a state dict of torch-fidelity's Inception-v3 ({type(e).__name__}: "
                           f"{str(e)[:300]})") from None


def _refuse_pickled_code(path: Path) -> None:
    """torch-fidelity loads with weights_only=False; an unverified file must at least be plain tensors."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors come in many types
        raise WeightsError(f"{path}: unverified weights file is not a plain tensor state dict, refusing to "
                           f"unpickle it ({type(e).__name__})") from None


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    if path is None:
        raise WeightsError("inception-v3-tf needs a weights file (resolved by genbench.features.weights)")
    return InceptionV3TF(device, weights, path)


EXTRACTORS.add("inception-v3-tf", ExtractorSpec(
    name="inception-v3-tf", build=_build, weights_name="inception-v3-tf", outputs=InceptionV3TF.outputs,
    description="TF Inception-v3 (torch-fidelity port): pool3 2048-d embedding, 1008 unbiased logits",
))
