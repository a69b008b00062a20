"""NDB's dimension subset (Richardson & Weiss 2018, "On GANs and GMMs").

Reference: eitanrich/gans-n-gmms `utils/ndb.py`, `NDB.construct_bins`: when the feature dimension d
exceeds 1000 and no `max_dims` is given, the bins are fitted (k-means) and assigned (nearest centre in L2)
on a random subset of d//6 dimensions, drawn with `np.random.choice(d, d_used, replace=False)`; for
d <= 1000 all dimensions are used (the reference still permutes them, which changes no distance).
The bin counts, the two-proportion z-test and JS are in functional.modes.ndb_js.

genbench draws the subset from `np.random.RandomState(seed)` instead of the global numpy RNG, so the same
seed gives the same dimensions as the reference after `np.random.seed(seed)`.
"""
from __future__ import annotations

import numpy as np

from genbench.errors import ConfigError

NDB_MAX_FULL_DIMS = 1000  # above this the reference clusters on d // 6 random dimensions


def ndb_dimensions(d: int, seed: int = 0, max_dims: int | None = None) -> np.ndarray:
    """Indices [d_used] int64 of the dimensions NDB clusters on (all of them, in order, for d <= 1000)."""
    if d < 1:
        raise ConfigError(f"ndb: features need at least one dimension, got {d}")
    if max_dims is None:
        max_dims = d // 6 if d > NDB_MAX_FULL_DIMS else d
    if max_dims < 1:
        raise ConfigError(f"ndb max_dims: must be >= 1, got {max_dims}")
    if max_dims >= d:
        return np.arange(d, dtype=np.int64)
    return np.random.RandomState(seed).choice(d, max_dims, replace=False).astype(np.int64)
