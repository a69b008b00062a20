"""An extractor's cache identity without building it (no network, and its weights hashed at most once).

The feature cache is keyed by (sample fingerprint, N, extractor name / version / preprocessing / weights
sha256). Building the network to learn that key would cost what the cache saves, so the key is computed
from the extractor's class attributes (genbench.features.base.extractor_class) and its weights' identity:

- no weights (pixels): sha256 None, as the built extractor reports it;
- weights shipped with genbench (ExtractorSpec.shipped_sha256, e.g. the digits classifier): the recorded
  sha256; the file is checked against it when (and only when) the network is built;
- weights in the store or given by --weights: sha256 of the file, memoised on disk in
  $GENBENCH_HOME/weights/.sha256-memo.json keyed by (absolute path, size, mtime_ns, inode). A file replaced
  in place changes its mtime (and usually its size and inode) and is hashed again; one edited while keeping
  all three would not be (the same trust `make` places in mtimes). The memo is only a speed-up: building
  the network always re-hashes the file through genbench.features.weights.resolve.

The identity is equal to `FeatureExtractor.cache_identity()` of the extractor once built, so entries are
shared with callers that hold a built extractor (genbench.eval.inputs.cached_features).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from genbench.errors import WeightsError
from genbench.features.base import EXTRACTORS, WeightsInfo, extractor_class
from genbench.io import atomic_write_text

MEMO_NAME = ".sha256-memo.json"


@dataclass(frozen=True)
class ExtractorIdentity:
    name: str
    version: str
    preprocess: str
    outputs: tuple[str, ...]
    weights: WeightsInfo

    def cache_identity(self) -> dict:
        return {"name": self.name, "version": self.version, "preprocess": self.preprocess,
                "weights_sha256": self.weights.sha256}


def memo_sha256(path: Path) -> str:
    """sha256 of `path`, from the on-disk memo when path, size, mtime and inode are unchanged."""
    from genbench.features.weights import sha256_file, store_dir

    p = Path(path).resolve()
    st = p.stat()
    stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
    memo_file = store_dir() / MEMO_NAME
    memo = _read_memo(memo_file)
    hit = memo.get(str(p))
    if isinstance(hit, dict) and hit.get("stamp") == stamp and isinstance(hit.get("sha256"), str):
        return hit["sha256"]
    digest = sha256_file(p)
    memo[str(p)] = {"stamp": stamp, "sha256": digest}
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(memo_file, json.dumps(memo, sort_keys=True, indent=1))
    except OSError:
        pass  # a read-only store: the memo is only a speed-up
    return digest


def _read_memo(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _weights(name: str, weights_path: str | os.PathLike | None, allow_unverified: bool) -> WeightsInfo:
    from genbench.features import weights as W

    spec = EXTRACTORS.get(name)
    if spec.weights_name is None:
        if spec.shipped_sha256 is not None:
            return WeightsInfo(name=name, sha256=spec.shipped_sha256(), verified=True)
        return WeightsInfo(name=None, sha256=None, verified=True)
    entry = W.WEIGHTS.get(spec.weights_name)
    p = Path(weights_path).expanduser() if weights_path is not None else W.store_dir() / entry.filename
    if not p.is_file():  # resolve() raises the full "how to get it" message
        W.resolve(spec.weights_name, weights_path, allow_unverified)
    digest = memo_sha256(p)
    ok = digest == entry.sha256
    if not ok and not allow_unverified:
        W._check(entry, p, allow_unverified)  # re-hashes and raises the store's own mismatch message
        raise WeightsError(f"{p}: sha256 {digest} does not match {entry.sha256}")  # the file changed meanwhile
    return WeightsInfo(name=entry.name, sha256=digest, verified=ok, path=str(p))


def extractor_identity(name: str, weights_path: str | os.PathLike | None = None,
                       allow_unverified: bool = False) -> ExtractorIdentity | None:
    """The identity of extractor `name` without building it; None if its class is unknown (build it instead)."""
    from genbench.features import load_all

    load_all()
    EXTRACTORS.get(name)  # unknown names raise with a hint
    cls = extractor_class(name)
    if cls is None:
        return None
    return ExtractorIdentity(name, cls.version, cls.preprocess, tuple(cls.outputs),
                             _weights(name, weights_path, allow_unverified))
