"""Import every extractor module so that each registers itself in EXTRACTORS (heavy imports stay lazy)."""
from genbench.features import clip, digits, dinov2, inception, inception_clean, pixels  # noqa: F401
