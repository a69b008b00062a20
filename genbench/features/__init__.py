"""Feature extractors behind one registry, streaming statistics, on-disk cache and weights store.

Holds: `base` (ExtractorSpec with its declared outputs and traits, the EXTRACTORS registry), `extract`
(the one place a protocol's extractors are built), `cache` (the content-addressed feature cache),
`weights` (checksummed, offline-first weights), one file per extractor (found by `_all`) and
`inception/`.
May import: the core, `metrics` (row-derived inputs) and `sets` (the image contract).
"""
from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo

__all__ = ["EXTRACTORS", "ExtractorSpec", "FeatureExtractor", "WeightsInfo", "load_all"]


def load_all() -> None:
    """Import every extractor module so that each registers itself."""
    from genbench.features import _all  # noqa: F401
