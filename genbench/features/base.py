"""FeatureExtractor: uint8 batch in, dict of float32 features out; owns preprocessing and weights.

Output roles every extractor uses:
  "embedding" -- the main feature vector (Inception pool3, CLIP image embedding, digits penultimate, pixels)
  "logits"    -- class logits, for extractors that are classifiers (Inception logits_unbiased, digits)
The `version` string changes whenever preprocessing or network code changes; it goes into every cache key.

Besides its output roles, an extractor declares every *derived* input it provides (ExtractorSpec.provides:
input name -> Derived), e.g. class probabilities from logits, per-channel classes of stacked digits, CLIP
text embeddings. The evaluator matches metrics' `needs` against roles + derived inputs, knowing no names.
Every FeatureExtractor subclass is recorded by its `name` (extractor_class), so its version and
preprocessing can be read without building the network (reference-statistics checks, cache keys).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator, Mapping

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


_CLASSES: dict[str, type["FeatureExtractor"]] = {}


class FeatureExtractor(abc.ABC):
    name: ClassVar[str]
    version: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]]
    preprocess: ClassVar[str]  # human-readable and exact: resize method + size + normalisation
    dims: ClassVar[Mapping[str, int]] = {}  # role -> width, where fixed (pixels: depends on the image size)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if isinstance(cls.__dict__.get("name"), str):
            _CLASSES[cls.name] = cls

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


def extractor_class(name: str) -> type[FeatureExtractor] | None:
    """The FeatureExtractor subclass whose `name` is `name` (None if no such class was imported)."""
    return _CLASSES.get(name)


@dataclass(frozen=True)
class Derived:
    """An input an extractor provides beyond its output roles, and how to derive it for one set.

    sources: what it is computed from: output roles ("logits"), "images" (the set's decoded uint8 images),
             "extractor" (the built network), "prompts" (the fake set's prompts).
    fn:      (DeriveContext) -> array; see genbench.eval.inputs.DeriveContext.
    sets:    the sets it exists for (None: every set).
    when / unless: a set trait (a dataset's or manifest's "traits") that must / must not hold for the
             reference set, e.g. "stacked-channels".
    """

    sources: tuple[str, ...]
    fn: Callable[[Any], Any]
    sets: tuple[str, ...] | None = None
    when: str | None = None
    unless: str | None = None


@dataclass(frozen=True)
class ExtractorSpec:
    """Registry entry: how to build an extractor and which weights entry (if any) it needs."""

    name: str
    build: Callable[[torch.device, WeightsInfo, str | None], FeatureExtractor]  # (device, weights, path)
    weights_name: str | None  # key in genbench.features.weights.WEIGHTS, None if weight-free or shipped
    outputs: tuple[str, ...]
    description: str
    provides: Mapping[str, Derived] = field(default_factory=dict)  # derived input name -> how
    shipped_sha256: Callable[[], str] | None = None  # shipped weights: their recorded sha256 (checked at build)
    traits: frozenset[str] = frozenset()  # declared facts that code may branch on, instead of names:
    # "inception": FID, KID and IS are defined on its features (inputs such as class_probs are declared
    # in `provides`, not as traits)


def extractor_traits(name: str) -> frozenset[str]:
    """The traits a registered extractor declares (UnknownNameError for an unknown name)."""
    from genbench.features import _all  # noqa: F401  (registers every extractor)

    return EXTRACTORS.get(name).traits


EXTRACTORS: Registry[ExtractorSpec] = Registry("feature extractor")
