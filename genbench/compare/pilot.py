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
from genbench.compare.laws import Pilot
from genbench.compare.regressions import CLASS_KINDS, IMAGE_KINDS, Regression, blur, kept_rows, noise, \
    partial_kept_rows, shift
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


def _candidate(base: dict, imgs: PilotImages, ext: FeatureExtractor, kept: np.ndarray | None,
               shifted: bool) -> Side:
    """The candidate's pilot in one space: features of the candidate images, of the degraded baseline, the
    baseline's rows without the dropped classes (`kept`, the same rows in every space), or, for an fd shift,
    its shifted rows in the `shifted` space and the baseline itself elsewhere (an FD shift is a size in one
    space's units)."""
    reg = imgs.regression
    if reg is None:
        return Side(features(ext, imgs.candidate))
    if reg.kind in IMAGE_KINDS:
        degraded = blur(imgs.baseline, int(reg.size)) if reg.kind == "blur" else noise(imgs.baseline, reg.size, reg.seed)
        return Side(features(ext, degraded))
    if reg.kind in CLASS_KINDS:
        return Side(base, kept)
    if not shifted:
        return Side(base)
    return Side(dict(base, embedding=shift(base["embedding"], reg.size, base["embedding"])))


def shifted_space(protocol: Protocol, spaces: Sequence[FeatureSpace]) -> FeatureSpace:
    """The space an fd shift moves: the protocol primary metric's, when planned, else the first planned."""
    primary = space_of(protocol, protocol.primary)  # exists: protocols are validated at registration
    return primary if primary in spaces else spaces[0]


def _kept(imgs: PilotImages, spaces: Mapping[FeatureSpace, dict]) -> np.ndarray | None:
    """Rows of the baseline a missing- or partial-class regression keeps: classes read from the first space
    whose extractor gives class probabilities, so that every space drops the same images."""
    reg = imgs.regression
    if reg is None or reg.kind not in CLASS_KINDS:
        return None
    probs = next((f["baseline"]["class_probs"] for f in spaces.values() if "class_probs" in f["baseline"]), None)
    if probs is None:
        names = ", ".join(sorted({s.extractor for s in spaces}))
        raise ConfigError(f"--kind {reg.kind}: no extractor of these rules ({names}) gives class probabilities")
    if reg.kind == "missing-class":
        return kept_rows(probs, int(reg.size), reg.seed)
    return partial_kept_rows(probs.argmax(1), probs.shape[1], int(reg.size), float(reg.share), reg.seed)


def build_pilots(rules: Sequence[Rule], protocol: Protocol, imgs: PilotImages,
                 extractors: Mapping[str, FeatureExtractor],
                 dataset: str | None = None) -> tuple[dict[Rule, Pilot], dict[Rule, dict], dict[Rule, str]]:
    """({rule: Pilot}, {rule: metric context}, {rule: the output its maths computes, fd_pixels -> fd}), the
    arguments of genbench.compare.power.plan; features extracted once per space, every space's pilot rows in
    the same image order (so that the planner can decide the rules jointly)."""
    if (imgs.candidate is None) == (imgs.regression is None):
        raise ConfigError("give either a candidate pilot (--candidate) or a regression (--kind), not both or neither")
    spaces = {}
    for rule in rules:
        space = space_of(protocol, rule.metric)
        if space not in spaces:
            ext = extractors[space.extractor]
            spaces[space] = {"baseline": features(ext, imgs.baseline), "reference": features(ext, imgs.reference)}
    kept, moved = _kept(imgs, spaces), shifted_space(protocol, list(spaces))
    done = {}
    for space, feats in spaces.items():
        base = Side(feats["baseline"])
        cand = _candidate(feats["baseline"], imgs, extractors[space.extractor], kept, space == moved)
        done[space] = Pilot(cand, base, base, Side(feats["reference"]))
    pilots, contexts, outputs = {}, {}, {}
    for rule in rules:
        space = space_of(protocol, rule.metric)
        pilots[rule], contexts[rule] = done[space], {"extractor": space.extractor, "dataset": dataset}
        outputs[rule] = plain_rule(rule, space).metric
    return pilots, contexts, outputs


def directions(protocol: Protocol, metrics: Sequence[str]) -> dict[str, bool | None]:
    """{metric: higher_is_better} of output names (suffix included) under the protocol's feature spaces."""
    from genbench.compare.paired import metric_for

    out = {}
    for m in metrics:
        plain = plain_rule(Rule(m, "<=", 0.0), space_of(protocol, m)).metric
        out[m] = metric_for(plain).higher_is_better.get(plain)
    return out
