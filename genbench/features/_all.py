"""Imports every extractor module of this package so that each registers itself in EXTRACTORS: a new
file is found without being listed anywhere (heavy imports inside the modules stay lazy). The
machinery modules (base, cache, extract, weights) are skipped."""
from genbench.registry import import_submodules

_MACHINERY = {"base", "cache", "extract", "weights"}

MODULES = import_submodules("genbench.features", skip=lambda name: name in _MACHINERY)
