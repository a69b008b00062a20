"""On-disk feature cache keyed by content hash + configuration hash; atomic writes under a file lock.

key = sha256(sample fingerprint, N, extractor name/version/preprocessing, weights sha256). Entries are
.npz files holding every output role of the extractor (float32) plus float64 mean/cov of "embedding",
and `checksum`: the sha256 of every other array (name, dtype, shape, bytes, in name order). An entry whose
checksum does not match (bit rot, a truncated copy, a hand-edited file: issue #11 found a zeroed entry that
turned an FD of 540 into 0) is reported with a warning and recomputed.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from genbench.io import atomic_write, lock_for

CACHE_FORMAT = "2"  # 2: entries carry a checksum of their arrays


def cache_key(fingerprint: str, n: int, identity: dict) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, "fingerprint": fingerprint, "n": n, "extractor": identity},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def arrays_checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over (name, dtype, shape, bytes) of each array, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class FeatureCache:
    def __init__(self, root: str | Path | None) -> None:
        self.root = None if root is None else Path(root) / "features"

    def path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        if self.root is None or not self.path(key).exists():
            return None
        try:
            with np.load(self.path(key), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception:
            return None  # unreadable entry: recompute and overwrite
        stored = str(arrays.pop("checksum", ""))
        if stored != arrays_checksum(arrays):
            warnings.warn(f"feature cache entry {self.path(key)} fails its checksum (corrupted or edited); "
                          "recomputing it", stacklevel=2)
            return None
        return arrays

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        if self.root is None:
            return

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays, checksum=np.str_(arrays_checksum(arrays)))

        atomic_write(self.path(key), write, any_rank=True)  # under torchrun, cached_collectively picks the writer

    def store_id(self) -> str | None:
        """Where this cache lives, as ranks compare it: hostname and real path (None: no cache)."""
        import socket

        return None if self.root is None else f"{socket.gethostname()}:{self.root.resolve()}"

    def get_or_compute(self, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        from genbench import distributed

        if distributed.active():  # torchrun: all ranks hit, or all compute (collective); one per cache writes
            return distributed.cached_collectively(self.load, self.save, key, compute, store=self.store_id())
        hit = self.load(key)
        if hit is not None:
            return hit
        if self.root is None:
            return compute()
        with lock_for(self.path(key)):
            hit = self.load(key)  # another process may have written it while we waited
            if hit is not None:
                return hit
            arrays = compute()
            self.save(key, arrays)
            return arrays
