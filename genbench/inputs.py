"""Gather the arrays metrics need for one feature space: features (cached), images, labels, text.

Values are lazy callables, so a metric that is skipped costs nothing and images are decoded only when
a metric asks for them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from genbench.errors import InputError
from genbench.features.cache import FeatureCache, cache_key
from genbench.features.base import FeatureExtractor
from genbench.samples import SampleSet


@dataclass(frozen=True)
class ExtractOptions:
    batch_size: int = 64
    progress: bool = False


def softmax64(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # [N, C] float64


def cached_features(extractor: FeatureExtractor, samples: SampleSet, cache: FeatureCache,
                    opts: ExtractOptions) -> dict[str, np.ndarray]:
    """Features for every output role of `extractor` (float32 [N, D]); the network runs only on a miss."""
    from genbench.features.extract import extract

    key = cache_key(samples.fingerprint, len(samples), extractor.cache_identity())

    def compute() -> dict[str, np.ndarray]:
        feats = extract(extractor, samples, batch_size=opts.batch_size, progress=opts.progress)
        emb = feats["embedding"].astype(np.float64)
        feats = dict(feats, stats_mean=emb.mean(axis=0), stats_cov=np.cov(emb, rowvar=False, ddof=1)
                     if len(emb) > 1 else np.zeros((emb.shape[1], emb.shape[1])))
        return feats

    return cache.get_or_compute(key, compute)


def _lazy(fn: Callable[[], Any]) -> Callable[[], Any]:
    return fn


def image_inputs(prefix: str, samples: SampleSet) -> dict[str, Any]:
    out: dict[str, Any] = {f"{prefix}.images": _lazy(samples.load)}
    if samples.labels is not None:
        out[f"{prefix}.labels"] = samples.labels
    return out


def point_inputs(prefix: str, samples: SampleSet) -> dict[str, Any]:
    if samples.kind != "points":
        raise InputError(f"{samples.source}: the 'points' feature space needs a 2-D point set, got images")
    pts = samples.load()
    out: dict[str, Any] = {f"{prefix}.points": pts, f"{prefix}.embedding": pts}
    if samples.labels is not None:
        out[f"{prefix}.labels"] = samples.labels
    return out


def feature_inputs(prefix: str, extractor: FeatureExtractor, samples: SampleSet, cache: FeatureCache,
                   opts: ExtractOptions, stacked: bool = False) -> dict[str, Any]:
    """Lazy feature arrays of one set, named by role; classifier extras for the digits classifier."""
    box: dict[str, dict[str, np.ndarray]] = {}

    def feats() -> dict[str, np.ndarray]:
        if "f" not in box:
            box["f"] = cached_features(extractor, samples, cache, opts)
        return box["f"]

    out: dict[str, Any] = {f"{prefix}.{role}": (lambda r=role: feats()[r]) for role in extractor.outputs}
    if extractor.name == "clip-vit-b-32":
        out[f"{prefix}.clip"] = lambda: feats()["embedding"]
    if extractor.name == "digits-classifier":
        if stacked:  # stacked digits: label each channel separately (a whole-image class means nothing)
            out[f"{prefix}.channel_classes"] = lambda: _channel_classes(extractor, samples, opts)
        else:
            out[f"{prefix}.class_probs"] = lambda: softmax64(feats()["logits"])
    return out


def _channel_classes(extractor: FeatureExtractor, samples: SampleSet, opts: ExtractOptions) -> np.ndarray:
    from genbench.features.digits import classify_channels

    parts = [classify_channels(b, extractor.device) for b in samples.batches(opts.batch_size)]
    return np.concatenate(parts)  # [N, 3] int64


def text_inputs(extractor: FeatureExtractor, prompts: list[str] | None, n: int) -> dict[str, Any]:
    """CLIP text embeddings of the fake set's prompts: plain, and with Hessel et al.'s prefix."""
    if prompts is None or extractor.name != "clip-vit-b-32":
        return {}
    if len(prompts) != n:
        raise InputError(f"--prompts: {len(prompts)} prompts for {n} samples; give one prompt per image")
    prefix = "A photo depicts "
    return {"fake.text": lambda: extractor.encode_text(list(prompts)),
            "fake.text_hessel": lambda: extractor.encode_text([prefix + p for p in prompts])}
