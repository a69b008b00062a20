"""The example model of examples/ci: `draw(seeds)` returns one image per seed, uint8 [B, 3, 8, 8].

It stands in for a generative model: seed k picks a real digit (from genbench's built-in digits-train
split) with a generator seeded by k alone, so image k depends only on seed k, never on the batch.
SKIP_CLASSES plays a regression: set it to (3,) and the model never draws a 3 (the example's test does
exactly that, and the gate must fail it).
"""
from __future__ import annotations

import numpy as np

SKIP_CLASSES: tuple[int, ...] = ()


def draw(seeds: list[int]) -> np.ndarray:
    """uint8 [len(seeds), 3, 8, 8]: for seed k, a digits-train image chosen by numpy's generator of seed k."""
    from genbench.data import load_dataset

    data = load_dataset("digits-train")
    allowed = np.flatnonzero(~np.isin(np.asarray(data.labels), SKIP_CLASSES))  # [M] row indices
    rows = [allowed[np.random.default_rng(s).integers(len(allowed))] for s in seeds]
    return np.asarray(data.data)[rows]  # [B, 3, 8, 8] uint8
