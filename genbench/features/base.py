"""FeatureExtractor: uint8 batch in, dict of float32 features out; owns preprocessing and weights.

Output roles every extractor uses:
  "embedding" -- the main feature vector (Inception pool3, CLIP image embedding, digits penultimate, pixels)
  "logits"    -- class logits, for extractors that are classifiers (Inception logits_unbiased, digits)
The `version` string changes whenever preprocessing or network code changes; it goes into every cache key.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterator

import numpy as np
import torch

from genbench.registry import Registry


@dataclass(frozen=True)
class WeightsInfo:
    """Where an extractor's weights came from: sha256 of the file and whether it matched the registry."""

    name: str | None
    sha256: str | None
    verified: bool
    path: str | None = None


class FeatureExtractor(abc.ABC):
    name: ClassVar[str]
    version: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]]
    preprocess: ClassVar[str]  # human-readable and exact: resize method + size + normalisation

    def __init__(self, device: torch.device, weights: WeightsInfo) -> None:
        self.device = device
        self.weights = weights

    @abc.abstractmethod
    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """uint8 [B, 3, H, W] on self.device -> {role: float32 [B, D]}; called under inference_mode."""

    def record(self) -> dict:
        return {"extractor": self.name, "extractor_version": self.version, "preprocess": self.preprocess,
                "weights": self.weights.name, "weights_sha256": self.weights.sha256,
                "weights_verified": self.weights.verified}

    def cache_identity(self) -> dict:
        """Everything that changes the features for the same images (the cache key hashes this)."""
        return {"name": self.name, "version": self.version, "preprocess": self.preprocess,
                "weights_sha256": self.weights.sha256}

    def run_batches(self, batches: Iterator[np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
        for batch in batches:
            x = torch.from_numpy(np.require(batch, requirements=["C", "W"])).to(self.device)
            with torch.inference_mode():
                out = self.forward(x)
            yield {k: v.detach().float().cpu().numpy() for k, v in out.items()}


@dataclass(frozen=True)
class ExtractorSpec:
    """Registry entry: how to build an extractor and which weights entry (if any) it needs."""

    name: str
    build: Callable[[torch.device, WeightsInfo, str | None], FeatureExtractor]  # (device, weights, path)
    weights_name: str | None  # key in genbench.features.weights.WEIGHTS, None if weight-free or shipped
    outputs: tuple[str, ...]
    description: str


EXTRACTORS: Registry[ExtractorSpec] = Registry("feature extractor")
