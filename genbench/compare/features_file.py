"""The features file beside a result: `R.features.npz` holds the feature rows the gate needs.

`genbench eval --json R.json --save-features` writes, beside R.json, the rows of every extractor whose
space produces a gated metric (the protocol's gate rules), only the roles those metrics read (e.g.
digits-classifier `embedding` and `logits`, pixels `embedding`): float32 [N, D], stored without pickle.
The file also names the sample fingerprint and N it was computed from, and R.json records the file's
name, size and sha256 (`samples.features_file`). The gate then reads the baseline's rows from this file
alone (no cache, no samples), checks its hash and its fingerprint against R.json, and recomputes the
recorded values from the rows (genbench.compare.verify), so a committed baseline pairs in CI and an
edited result is refused.

The zip is written with fixed entry times, in sorted key order, so the same rows give the same bytes
(and the same sha256). Pure format code: which extractors to save is the caller's choice.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from genbench.errors import InputError
from genbench.io import atomic_write

FORMAT = "genbench-features/1"
SUFFIX = ".features.npz"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

Rows = Mapping[str, Mapping[str, np.ndarray]]  # extractor -> {role: float32 [N, D]}


@dataclass(frozen=True)
class FeaturesFile:
    """Rows of one sample set by extractor, with the fingerprint and N they were computed from."""

    path: Path
    fingerprint: str
    n: int
    rows: Rows
    identities: Mapping[str, Mapping]  # extractor -> its cache identity (name, version, weights sha256)

    def raw(self, extractor: str) -> dict[str, np.ndarray]:
        """{role: float32 [N, D]} of one extractor; KeyError when the file does not hold it."""
        return dict(self.rows[extractor])


def features_path(result_json: str | Path) -> Path:
    """`R.features.npz` beside `R.json`."""
    p = Path(result_json)
    return p.with_name((p.name[:-5] if p.name.endswith(".json") else p.name) + SUFFIX)


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_META = ("format", "fingerprint", "n", "identities")


def _entries(fingerprint: str, n: int, rows: Rows, identities: Mapping[str, Mapping]) -> dict[str, np.ndarray]:
    out = {"format": np.array(FORMAT), "fingerprint": np.array(fingerprint), "n": np.array(n, dtype=np.int64),
           "identities": np.array(json.dumps(identities, sort_keys=True))}
    for ext, roles in rows.items():
        for role, a in roles.items():
            key = f"{ext}.{role}"
            if not _KEY.match(key):
                raise InputError(f"features file: bad extractor/role name {key!r}")
            out[key] = np.ascontiguousarray(a, dtype=np.float32)  # [N, D]
    return out


def _write_zip(dest: Path, entries: dict[str, np.ndarray]) -> None:
    with open(dest, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        for key in sorted(entries):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_FIXED_TIME)
            with z.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, entries[key], allow_pickle=False)


def write_features(path: str | Path, fingerprint: str, n: int, rows: Rows, identities: Mapping[str, Mapping]) -> dict:
    """Write the file atomically; returns its record for R.json: {path (file name), sha256, bytes, extractors}."""
    entries = _entries(fingerprint, n, rows, identities)
    for key, a in entries.items():
        if a.dtype == np.float32 and (a.ndim != 2 or len(a) != n):
            raise InputError(f"features file {path}: {key} has shape {a.shape}, expected [{n}, D]")
    target = atomic_write(path, lambda tmp: _write_zip(tmp, entries))
    return {"path": target.name, "sha256": sha256_of(target), "bytes": target.stat().st_size,
            "extractors": sorted(rows)}


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable genbench features file ({type(e).__name__}: {e})") from None


def _rows_of(path: Path, arrays: dict[str, np.ndarray], n: int) -> dict[str, dict[str, np.ndarray]]:
    rows: dict[str, dict[str, np.ndarray]] = {}
    for key, a in arrays.items():
        if key in _META:
            continue
        ext, _, role = key.rpartition(".")
        if not ext or a.dtype != np.float32 or a.ndim != 2 or len(a) != n:
            raise InputError(f"{path}: entry {key!r} must be float32 [{n}, D], got {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            raise InputError(f"{path}: entry {key!r} holds non-finite values")
        rows.setdefault(ext, {})[role] = a
    return rows


def read_features(path: str | Path, sha256: str | None = None) -> FeaturesFile:
    """Read and check a features file (hash first, when given); InputError naming the file and the problem."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: features file not found")
    if sha256 is not None and (got := sha256_of(p)) != sha256:
        raise InputError(f"{p}: sha256 {got[:16]}… does not match the {sha256[:16]}… its result records "
                         "(the file was changed or replaced after the result was written)")
    arrays = _load_arrays(p)
    if str(arrays.get("format", "")) != FORMAT or any(k not in arrays for k in _META):
        raise InputError(f"{p}: not a genbench features file (format {FORMAT!r} expected)")
    try:
        n, identities = int(arrays["n"]), json.loads(str(arrays["identities"]))
    except (TypeError, ValueError) as e:
        raise InputError(f"{p}: bad n or identities entry ({e})") from None
    return FeaturesFile(p, str(arrays["fingerprint"]), n, _rows_of(p, arrays, n), identities)


def describe_bytes(record: Mapping) -> str:
    """"1.2 MB" for a features record's size (for the CLI)."""
    b = float(record.get("bytes", 0))
    return next(f"{b / s:.1f} {u}" for s, u in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1, "B")) if b >= s or s == 1)

