"""Pilot features for the sample-size planner (genbench.compare.power), from images.

The baseline pilot is a set of real or trusted samples; the candidate is either a second pilot set (a
model under test) or a regression of known kind and size applied to the baseline
(genbench.compare.regressions). Features are extracted once per rule's feature space with the protocol's
extractor (class probabilities beside the embedding where the extractor is a classifier); the null
(an identical-quality candidate) is the baseline itself, resampled independently on each side.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np

from genbench.compare.find_features import space_of
from genbench.compare.gate import Rule
from genbench.compare.paired import Side
from genbench.compare.power import Pilot
from genbench.compare.regressions import IMAGE_KINDS, Regression, blur, kept_rows, noise, shift
from genbench.errors import ConfigError
from genbench.eval.inputs import row_inputs
from genbench.features.base import FeatureExtractor
from genbench.protocols import FeatureSpace, Protocol


def features(extractor: FeatureExtractor, images: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """Metric inputs of uint8 [N, 3, H, W] images from their rows: output roles (embedding [N, D], ...) and the
    inputs derived from them (class_probs [N, K] for a classifier), as genbench.eval.inputs.row_inputs."""
    outs = list(extractor.run_batches(images[i:i + batch] for i in range(0, len(images), batch)))
    return row_inputs(extractor.name, {k: np.concatenate([o[k] for o in outs]) for k in extractor.outputs})


@dataclass(frozen=True)
class PilotImages:
    """uint8 [N, 3, H, W] arrays: baseline, reference, and the candidate (None: a regression of the baseline)."""

    baseline: np.ndarray
    reference: np.ndarray
    candidate: np.ndarray | None = None
    regression: Regression | None = None


def plain_rule(rule: Rule, space: FeatureSpace) -> Rule:
    """The rule with its metric's space suffix removed (fd_pixels -> fd), as the metric maths names it."""
    if space.suffix and rule.metric.endswith(space.suffix):
        return replace(rule, metric=rule.metric[: -len(space.suffix)])
    return rule


def _candidate(space_feats: dict, imgs: PilotImages, ext: FeatureExtractor) -> Side:
    base = space_feats["baseline"]
    reg = imgs.regression
    if reg is None:
        return Side(features(ext, imgs.candidate))
    if reg.kind in IMAGE_KINDS:
        degraded = blur(imgs.baseline, int(reg.size)) if reg.kind == "blur" else noise(imgs.baseline, reg.size, reg.seed)
        return Side(features(ext, degraded))
    if reg.kind == "missing-class":
        if "class_probs" not in base:
            raise ConfigError(f"--kind missing-class: extractor {ext.name} gives no class probabilities")
        return Side(base, kept_rows(base["class_probs"], int(reg.size), reg.seed))
    moved = dict(base, embedding=shift(base["embedding"], reg.size, base["embedding"]))
    return Side(moved)


def build_pilots(rules: Sequence[Rule], protocol: Protocol, imgs: PilotImages,
                 extractors: Mapping[str, FeatureExtractor],
                 dataset: str | None = None) -> tuple[dict[Rule, Pilot], dict[Rule, dict]]:
    """({plain rule: Pilot}, {plain rule: metric context}); features extracted once per space."""
    if (imgs.candidate is None) == (imgs.regression is None):
        raise ConfigError("give either a candidate pilot (--candidate) or a regression (--kind), not both or neither")
    pilots, contexts, done = {}, {}, {}
    for rule in rules:
        space = space_of(protocol, rule.metric)
        if space not in done:
            ext = extractors[space.extractor]
            feats = {"baseline": features(ext, imgs.baseline), "reference": features(ext, imgs.reference)}
            cand = _candidate(feats, imgs, ext)
            base = Side(feats["baseline"])
            done[space] = Pilot(cand, base, base, Side(feats["reference"]))
        plain = plain_rule(rule, space)
        pilots[plain], contexts[plain] = done[space], {"extractor": space.extractor, "dataset": dataset}
    return pilots, contexts


def directions(protocol: Protocol, metrics: Sequence[str]) -> dict[str, bool | None]:
    """{metric: higher_is_better} of output names (suffix included) under the protocol's feature spaces."""
    from genbench.compare.paired import metric_for

    out = {}
    for m in metrics:
        plain = plain_rule(Rule(m, "<=", 0.0), space_of(protocol, m)).metric
        out[m] = metric_for(plain).higher_is_better.get(plain)
    return out
