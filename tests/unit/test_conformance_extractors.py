"""Conformance of every registered extractor (parametrised over EXTRACTORS.names(), so a new one is tested
the moment it is registered): declared outputs and derived inputs are produced with the declared shapes
and dtypes on 2 tiny images, and its identity computed without building it equals the built one's (the
feature cache depends on it). Extractors whose weights are not installed run with seeded random weights
where a recipe for their architecture exists; only the others are skipped."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from genbench.errors import WeightsError
from genbench.features import EXTRACTORS, load_all
from genbench.features.base import extractor_class
from genbench.features.cache import FeatureCache
from genbench.features.extract import build_extractor
from genbench.features.identity import extractor_identity
from genbench.eval.inputs import ExtractOptions, ExtractorHandle, ImageSource, cached_features, space_arrays
from genbench.sets.samples import SampleSet

load_all()
TRAITS = sorted({t for _, s in EXTRACTORS.items() for d in s.provides.values() for t in (d.when, d.unless) if t})


def _random_inception(path: Path) -> Path:
    from tests.parity.inception_helpers import random_inception_weights

    return random_inception_weights(path, seed=0, calibration_images=4)


def _random_clip(path: Path) -> Path:
    from genbench.features.clip import clip_architecture

    torch.manual_seed(0)
    torch.save(clip_architecture().state_dict(), path)
    return path


# weights entry -> a file of seeded random weights for the architecture that reads it
RANDOM_WEIGHTS: dict[str, Callable[[Path], Path]] = {"inception-v3-tf": _random_inception,
                                                     "clip-vit-b-32": _random_clip}


@pytest.fixture(scope="module", params=EXTRACTORS.names())
def built(request, tmp_path_factory):
    name = request.param
    spec = EXTRACTORS.get(name)
    path = None
    try:
        build_extractor(name, device="cpu") if spec.weights_name else None
    except WeightsError:
        if spec.weights_name not in RANDOM_WEIGHTS:
            pytest.skip(f"{name}: weights not installed and no random-weights recipe for its architecture")
        path = RANDOM_WEIGHTS[spec.weights_name](tmp_path_factory.mktemp(name) / "random.pt")
    ext = build_extractor(name, device="cpu", weights_path=path, allow_unverified=path is not None)
    cache = FeatureCache(tmp_path_factory.mktemp(f"{name}-cache"))  # one network pass per extractor
    return name, ext, path, cache


def _images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)


def test_outputs_shapes_dtypes(built) -> None:
    name, ext, _, cache = built
    spec, cls = EXTRACTORS.get(name), extractor_class(name)
    assert cls is not None and type(ext) is cls and cls.name == name
    assert tuple(spec.outputs) == tuple(ext.outputs) and "embedding" in ext.outputs
    feats = cached_features(ext, SampleSet.from_array(_images(), layout="NCHW"), cache, ExtractOptions(1))
    feats = {r: a for r, a in feats.items() if not r.startswith("stats_")}
    assert set(feats) == set(ext.outputs)
    for role, a in feats.items():
        assert a.dtype == np.float32 and a.ndim == 2 and len(a) == 2 and np.isfinite(a).all(), role
        if role in cls.dims:
            assert a.shape[1] == cls.dims[role], role


def test_identity_without_building(built) -> None:
    name, ext, path, _ = built
    ident = extractor_identity(name, path, allow_unverified=path is not None)
    assert ident.cache_identity() == ext.cache_identity()
    assert ident.outputs == tuple(ext.outputs)


@pytest.mark.parametrize("traits", [(), *[(t,) for t in TRAITS]])
def test_declared_inputs_produced(built, traits, tmp_path: Path) -> None:
    name, ext, path, cache = built
    spec = EXTRACTORS.get(name)
    images = _images()
    src = ImageSource(SampleSet.from_array(images, layout="NCHW", manifest={"traits": list(traits)}),
                      cache, ExtractOptions(batch_size=2))
    handle = ExtractorHandle(name, lambda: ext, extractor_identity(name, path, path is not None))
    box = {}
    arrays = space_arrays({"fake": src, "real": src}, handle, ["a digit", "a cat"], torch.device("cpu"), 2,
                          lambda k: box["get"](k))
    box["get"] = lambda k: arrays[k]() if callable(arrays[k]) else arrays[k]
    for role in ext.outputs:
        assert f"fake.{role}" in arrays and f"real.{role}" in arrays
    for key in ("mean", "cov", "n", "images"):
        assert f"fake.{key}" in arrays
    for derived, d in spec.provides.items():
        want = (d.when is None or d.when in traits) and (d.unless is None or d.unless not in traits)
        for prefix in ("fake", "real"):
            key = f"{prefix}.{derived}"
            expected = want and (d.sets is None or prefix in d.sets)
            assert (key in arrays) == expected, key
            if expected:
                a = np.asarray(box["get"](key))
                assert len(a) == 2 and a.ndim == 2 and np.isfinite(a).all(), key
                assert a.dtype.kind in "fi", key
    assert box["get"]("fake.mean").shape == (box["get"]("fake.embedding").shape[1],)
