"""Derived inputs that feature rows of output roles cannot give, computed per set for paired comparisons.

An extractor declares its derived inputs (ExtractorSpec.provides). Those whose sources are all output roles
(class_probs from logits, clip from the embedding) are rebuilt from rows by genbench.eval.inputs.row_inputs.
The others need the set's images, the network or the prompts (channel_classes from the images, text from
the prompts): `unrebuildable` names them, `derive_for_set` computes them for one set from its images with
the same Derived functions and the same conditions (sets, when / unless traits, sources available) as an
evaluation, and `provenance` is what a features file records beside their stored rows, so that rows
derived another way are refused. Decisions are made from the declared sources, never from names.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

import numpy as np

from genbench.eval.inputs import DeriveContext, ExtractorHandle, derivable
from genbench.features.base import EXTRACTORS, Derived, FeatureExtractor

SOURCE_WORDS = {"images": "the images", "extractor": "the network", "prompts": "the prompts"}


def unrebuildable(extractor: str, inputs: Iterable[str]) -> list[str]:
    """The derived inputs among `inputs` whose sources are not all output roles (sorted)."""
    spec = EXTRACTORS.get(extractor)
    return sorted(n for n in set(inputs) if n in spec.provides
                  and not set(spec.provides[n].sources) <= set(spec.outputs))


def conditional(extractor: str, names: Iterable[str]) -> bool:
    """True when any of `names` exists only for some set traits (Derived.when / unless)."""
    spec = EXTRACTORS.get(extractor)
    return any(spec.provides[n].when or spec.provides[n].unless for n in names)


def describe_sources(extractor: str, name: str) -> str:
    """"channel_classes (from the images)" for messages."""
    d = EXTRACTORS.get(extractor).provides[name]
    return f"{name} (from {' and '.join(SOURCE_WORDS.get(s, s) for s in d.sources)})"


def derive_for_set(ext: FeatureExtractor, names: Iterable[str], prefix: str, images: Callable[[], np.ndarray],
                   rows: Mapping[str, np.ndarray], traits: frozenset[str],
                   prompts: list[str] | None = None, batch_size: int = 64) -> dict[str, np.ndarray]:
    """{name: array [N, ...]} of the `names` derivable for one set as `prefix` ("fake"/"real") under
    `traits`; `images` gives uint8 [N, 3, H, W] on demand, `rows` its inputs from feature rows."""
    spec = EXTRACTORS.get(ext.name)

    def get(key: str) -> np.ndarray:
        role = key.split(".", 1)[1]
        return images() if role == "images" else rows[role]

    handle = ExtractorHandle(ext.name, lambda: ext, ext)
    out: dict[str, np.ndarray] = {}
    for name in derivable_names(ext.name, names, prefix, set(rows), traits, prompts):
        ctx = DeriveContext(prefix, get, handle, prompts, getattr(ext, "device", "cpu"), batch_size)
        out[name] = np.asarray(spec.provides[name].fn(ctx))
    return out


def derivable_names(extractor: str, names: Iterable[str], prefix: str, rows: Iterable[str],
                    traits: frozenset[str], prompts: list[str] | None = None) -> list[str]:
    """The `names` an evaluation would derive for a set of images as `prefix` with inputs `rows`, under
    `traits` (decided before any image is read)."""
    spec = EXTRACTORS.get(extractor)
    keys = {f"{prefix}.{k}" for k in rows} | {f"{prefix}.images"}
    return [n for n in names if derivable(spec.provides[n], prefix, keys, traits, prompts)]


def derivation_name(d: Derived) -> str:
    """The function that derives an input, as module.qualname."""
    return f"{getattr(d.fn, '__module__', '?')}.{getattr(d.fn, '__qualname__', '?')}"


def provenance(extractor: str, name: str, traits: frozenset[str]) -> dict:
    """What a features file records about stored rows of a derived input: its sources, the function that
    derived it, and the set traits it was derived under."""
    d = EXTRACTORS.get(extractor).provides[name]
    return {"sources": list(d.sources), "derived_by": derivation_name(d), "traits": sorted(traits)}


def provenance_mismatch(extractor: str, name: str, recorded: Mapping) -> str | None:
    """None when stored rows of `name` were derived as this version derives them, else what differs."""
    spec = EXTRACTORS.get(extractor)
    if name not in spec.provides:
        return f"{extractor} provides no derived input {name!r}"
    d = spec.provides[name]
    if list(recorded.get("sources") or ()) != list(d.sources):
        return f"{name} was derived from {recorded.get('sources')}, now from {list(d.sources)}"
    if recorded.get("derived_by") != derivation_name(d):
        return f"{name} was derived by {recorded.get('derived_by')}, now by {derivation_name(d)}"
    return None
