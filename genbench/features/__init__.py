"""Feature extractors behind one registry, streaming statistics, on-disk cache and weights store."""
from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo

__all__ = ["EXTRACTORS", "ExtractorSpec", "FeatureExtractor", "WeightsInfo", "load_all"]


def load_all() -> None:
    """Import every extractor module so that each registers itself."""
    from genbench.features import _all  # noqa: F401
