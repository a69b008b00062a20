"""`pixels`: raw pixels as features (uint8 -> float32 / 255, flattened); no network, no weights.

A baseline feature space for tiny images (e.g. FD or precision/recall in pixel space on 8x8 digits).
"""
from __future__ import annotations

import torch

from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo

NO_WEIGHTS = WeightsInfo(name=None, sha256=None, verified=True)


class Pixels(FeatureExtractor):
    name = "pixels"
    version = "1"
    outputs = ("embedding",)
    preprocess = "uint8 -> float32 / 255, flattened in C, H, W order; no resize"

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"embedding": batch.float().div(255.0).flatten(1)}  # [B, 3*H*W] float32


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    return Pixels(device, NO_WEIGHTS)


EXTRACTORS.add("pixels", ExtractorSpec(
    name="pixels", build=_build, weights_name=None, outputs=Pixels.outputs,
    description="raw pixels / 255, flattened (3*H*W dimensions); no weights",
))
