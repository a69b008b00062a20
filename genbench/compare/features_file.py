"""The features file beside a result: `R.features.npz` holds the feature rows the gate needs.

`genbench eval --json R.json --save-features` writes, beside R.json, the rows of every extractor whose
space produces a gated metric (the protocol's gate rules), only the roles those metrics read (e.g.
digits-classifier `embedding` and `logits`, pixels `embedding`): float32 [N, D], stored without pickle.
The file also names the sample fingerprint and N it was computed from, and R.json records the file's
name, size and sha256 (`samples.features_file`). The gate then reads the baseline's rows from this file
alone (no cache, no samples), checks its hash and its fingerprint against R.json, and recomputes the
recorded values from the rows (genbench.compare.verify), so a committed baseline pairs in CI and an
edited result is refused.

Derived inputs that rows of output roles cannot rebuild (they need the images, the network or prompts:
per-channel classes of stacked digits) are stored as rows too, one per sample and aligned with the
others, in their own dtype (int64 stays int64), under `<extractor>.<input>`; the `derived` entry records
each one's provenance (its sources, the function that derived it, the set traits it was derived under),
and being in the file it is covered by the same sha256. A file without derived rows has no `derived`
entry, so its bytes are what they were before derived rows existed.

The zip is written with fixed entry times, in sorted key order, so the same rows give the same bytes
(and the same sha256). Pure format code: which extractors to save is the caller's choice.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from genbench.errors import InputError
from genbench.io import atomic_write

FORMAT = "genbench-features/1"
SUFFIX = ".features.npz"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

Rows = Mapping[str, Mapping[str, np.ndarray]]  # extractor -> {role: float32 [N, D]}
Derived = Mapping[str, Mapping[str, np.ndarray]]  # extractor -> {input: [N] or [N, K] int64 / float32 / float64}
Provenance = Mapping[str, Mapping[str, Mapping]]  # extractor -> {input: {sources, derived_by, traits}}
DERIVED_DTYPES = (np.dtype(np.int64), np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class FeaturesFile:
    """Rows of one sample set by extractor, with the fingerprint and N they were computed from."""

    path: Path
    fingerprint: str
    n: int
    rows: Rows
    identities: Mapping[str, Mapping]  # extractor -> its cache identity (name, version, weights sha256)
    derived: Derived = field(default_factory=dict)
    provenance: Provenance = field(default_factory=dict)

    def raw(self, extractor: str) -> dict[str, np.ndarray]:
        """{role: float32 [N, D]} of one extractor; KeyError when the file does not hold it."""
        return dict(self.rows[extractor])

    def derived_of(self, extractor: str) -> dict[str, np.ndarray]:
        """{input: [N, ...]} derived rows stored for one extractor (empty when none)."""
        return dict(self.derived.get(extractor, {}))


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


def _key(ext: str, name: str) -> str:
    key = f"{ext}.{name}"
    if not _KEY.match(key):
        raise InputError(f"features file: bad extractor/role name {key!r}")
    return key


def _derived_array(key: str, a: np.ndarray, n: int) -> np.ndarray:
    """A derived input's rows as stored: its own dtype (one of DERIVED_DTYPES), [N] or [N, K]."""
    a = np.ascontiguousarray(a)
    if a.dtype not in DERIVED_DTYPES or a.ndim not in (1, 2) or len(a) != n:
        raise InputError(f"features file: derived rows {key} must be int64/float32/float64 [{n}] or [{n}, K], "
                         f"got {a.dtype} {list(a.shape)}")
    return a


def _entries(fingerprint: str, n: int, rows: Rows, identities: Mapping[str, Mapping], derived: Derived,
             provenance: Provenance) -> dict[str, np.ndarray]:
    out = {"format": np.array(FORMAT), "fingerprint": np.array(fingerprint), "n": np.array(n, dtype=np.int64),
           "identities": np.array(json.dumps(identities, sort_keys=True))}
    for ext, roles in rows.items():
        for role, a in roles.items():
            out[_key(ext, role)] = np.ascontiguousarray(a, dtype=np.float32)  # [N, D]
    for ext, inputs in derived.items():
        for name, a in inputs.items():
            key = _key(ext, name)
            if key in out or name not in provenance.get(ext, {}):
                raise InputError(f"features file: derived rows {key} clash with a role or have no provenance")
            out[key] = _derived_array(key, a, n)
    if any(derived.values()):
        prov = {ext: {k: provenance[ext][k] for k in inputs} for ext, inputs in derived.items() if inputs}
        out["derived"] = np.array(json.dumps(prov, sort_keys=True))
    return out


def _write_zip(dest: Path, entries: dict[str, np.ndarray]) -> None:
    with open(dest, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        for key in sorted(entries):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_FIXED_TIME)
            with z.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, entries[key], allow_pickle=False)


def write_features(path: str | Path, fingerprint: str, n: int, rows: Rows, identities: Mapping[str, Mapping],
                   derived: Derived | None = None, provenance: Provenance | None = None) -> dict:
    """Write the file atomically; returns its record for R.json: {path (file name), sha256, bytes, extractors}.
    `derived` holds derived rows by extractor, each with its `provenance` entry."""
    entries = _entries(fingerprint, n, rows, identities, derived or {}, provenance or {})
    plain = {_key(e, r) for e, roles in rows.items() for r in roles}
    for key, a in entries.items():
        if key in plain and (a.ndim != 2 or len(a) != n):
            raise InputError(f"features file {path}: {key} has shape {a.shape}, expected [{n}, D]")
    target = atomic_write(path, lambda tmp: _write_zip(tmp, entries))
    return {"path": target.name, "sha256": sha256_of(target), "bytes": target.stat().st_size,
            "extractors": sorted(rows)}


Widths = Callable[[str, str], "int | None"]  # (extractor, role) -> its fixed width, None where not fixed
META_BYTES = 1 << 20  # a metadata entry (format, fingerprint, n, identities, derived) holds at most this much


def _header(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) an entry declares, read from its .npy header alone; the entry must be stored (genbench
    never compresses) and its size on disk must be exactly what the header declares, so that nothing is
    allocated beyond the bytes the file really holds (a DEFLATE member cannot expand into terabytes)."""
    if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
        raise ValueError(f"entry {info.filename!r} is compressed or not a .npy array (genbench stores them plain)")
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
        body = f.tell()
    if dtype.hasobject:
        raise ValueError(f"entry {info.filename!r} holds Python objects")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if body + size != info.file_size:
        raise ValueError(f"entry {info.filename!r} declares shape {list(shape)} {dtype} ({size} bytes) but holds "
                         f"{info.file_size - body}")
    return tuple(int(d) for d in shape), dtype


def _check_declared(path: Path, widths: Widths | None) -> None:
    """Every entry's declared shape and dtype, before any data is read: metadata small, rows 1- or 2-D, a
    row width that an extractor fixes equal to it (InputError naming the entry)."""
    try:
        with zipfile.ZipFile(path) as z:
            declared = {i.filename[:-4]: _header(z, i) for i in z.infolist()}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable genbench features file ({type(e).__name__}: {e})") from None
    for key, (shape, dtype) in declared.items():
        if key in _META or key == "derived":
            if int(np.prod(shape, dtype=object)) * dtype.itemsize > META_BYTES:
                raise InputError(f"{path}: metadata entry {key!r} declares {list(shape)} {dtype}: too large")
            continue
        ext, _, role = key.rpartition(".")
        want = widths(ext, role) if widths is not None and ext else None
        if len(shape) not in (1, 2) or (want is not None and len(shape) == 2 and shape[1] != want):
            raise InputError(f"{path}: entry {key!r} declares shape {list(shape)}; {ext} {role} rows are "
                             f"[N, {want if want is not None else 'D'}]")


def _load_arrays(path: Path, widths: Widths | None = None) -> dict[str, np.ndarray]:
    _check_declared(path, widths)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable genbench features file ({type(e).__name__}: {e})") from None


def _json_entry(path: Path, arrays: dict[str, np.ndarray], key: str) -> dict:
    try:
        value = json.loads(str(arrays[key])) if key in arrays else {}
    except (TypeError, ValueError) as e:
        raise InputError(f"{path}: bad {key} entry ({e})") from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InputError(f"{path}: bad {key} entry (expected an object of objects)")
    return value


def _split(path: Path, arrays: dict[str, np.ndarray], n: int, provenance: Provenance) -> tuple[dict, dict]:
    """(rows, derived) by extractor; every entry checked: shape, dtype, finite values."""
    rows: dict[str, dict[str, np.ndarray]] = {}
    derived: dict[str, dict[str, np.ndarray]] = {}
    for key, a in arrays.items():
        if key in _META or key == "derived":
            continue
        ext, _, name = key.rpartition(".")
        if ext and name in provenance.get(ext, {}):
            try:
                derived.setdefault(ext, {})[name] = _derived_array(key, a, n)
            except InputError as e:
                raise InputError(f"{path}: {str(e).removeprefix('features file: ')}") from None
        elif not ext or a.dtype != np.float32 or a.ndim != 2 or len(a) != n:
            raise InputError(f"{path}: entry {key!r} must be float32 [{n}, D], got {a.dtype} {a.shape}")
        else:
            rows.setdefault(ext, {})[name] = a
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise InputError(f"{path}: entry {key!r} holds non-finite values")
    missing = [f"{e}.{k}" for e, names in provenance.items() for k in names if k not in derived.get(e, {})]
    if missing:
        raise InputError(f"{path}: derived rows {', '.join(missing)} are recorded but not stored")
    return rows, derived


def read_features(path: str | Path, sha256: str | None = None, widths: Widths | None = None) -> FeaturesFile:
    """Read and check a features file (hash first, when given; then every entry's declared shape against
    `widths` before any data is read); InputError naming the file and the problem."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: features file not found")
    if sha256 is not None and (got := sha256_of(p)) != sha256:
        raise InputError(f"{p}: sha256 {got[:16]}… does not match the {sha256[:16]}… its result records "
                         "(the file was changed or replaced after the result was written)")
    arrays = _load_arrays(p, widths)
    if str(arrays.get("format", "")) != FORMAT or any(k not in arrays for k in _META):
        raise InputError(f"{p}: not a genbench features file (format {FORMAT!r} expected)")
    try:
        n, identities = int(arrays["n"]), json.loads(str(arrays["identities"]))
    except (TypeError, ValueError) as e:
        raise InputError(f"{p}: bad n or identities entry ({e})") from None
    provenance = _json_entry(p, arrays, "derived")
    rows, derived = _split(p, arrays, n, provenance)
    return FeaturesFile(p, str(arrays["fingerprint"]), n, rows, identities, derived, provenance)


def describe_bytes(record: Mapping) -> str:
    """"1.2 MB" for a features record's size (for the CLI)."""
    b = float(record.get("bytes", 0))
    return next(f"{b / s:.1f} {u}" for s, u in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1, "B")) if b >= s or s == 1)

