"""The one cache-aware path from a set to its features (genbench.eval.inputs.cached_features): an
evaluation's ImageSource (a handle, the network not yet built) and a caller holding a built extractor
put together the same key (features_key) and share one cache entry; the network is built only on a miss."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genbench.features.cache import FeatureCache, cache_key
from genbench.features.extract import build_extractor
from genbench.features.identity import extractor_identity
from genbench.eval.inputs import ExtractOptions, ExtractorHandle, ImageSource, cached_features, features_key
from genbench.sets.samples import SampleSet


def _set() -> SampleSet:
    return SampleSet.from_array(np.random.default_rng(0).integers(0, 256, (3, 3, 8, 8), dtype=np.uint8),
                                layout="NCHW")


def test_handle_and_built_extractor_share_one_entry(tmp_path: Path) -> None:
    samples, cache, ext = _set(), FeatureCache(tmp_path), build_extractor("pixels", device="cpu")
    builds: list[int] = []

    def build():
        builds.append(1)
        return ext

    handle = ExtractorHandle("pixels", build, extractor_identity("pixels", None, False))
    key = features_key(samples.fingerprint, len(samples), handle)
    assert key == features_key(samples.fingerprint, len(samples), ext)
    assert key == cache_key(samples.fingerprint, len(samples), ext.cache_identity())
    first = ImageSource(samples, cache, ExtractOptions(batch_size=2)).features(handle)
    assert builds == [1] and cache.path(key).exists()
    again = cached_features(ext, samples, cache, ExtractOptions())  # a hit: the entry the source wrote
    fresh = ExtractorHandle("pixels", build, extractor_identity("pixels", None, False))
    cached_features(fresh, samples, cache, ExtractOptions())
    assert builds == [1]  # a hit never builds the network
    assert set(again) == set(first) and all(np.array_equal(again[k], first[k]) for k in first)
    assert {"stats_mean", "stats_cov", "embedding"} <= set(first)
