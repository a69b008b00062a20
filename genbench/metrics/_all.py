"""Imports every metric module of this package so that each registers itself: a new file is found
without being listed anywhere. Pure maths (functional*) and the machinery modules are skipped."""
from genbench.registry import import_submodules

_MACHINERY = {"base", "bootstrap", "knn", "values"}

MODULES = import_submodules("genbench.metrics",
                            skip=lambda name: name.startswith("functional") or name in _MACHINERY)
