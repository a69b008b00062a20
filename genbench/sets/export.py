"""Write a SampleSet as a PNG folder or an ADM-layout .npz (atomic), with its manifest.

The output rule (genbench.io): an existing .npz is replaced only when its sibling `<stem>.manifest.json`
(written by genbench, after the .npz) records that file's sha256; a folder only with --overwrite and when
its contents are exactly genbench's manifest; and never a path that is, contains or lies inside the source.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genbench.errors import InputError
from genbench.sets.images import nchw_to_nhwc
import json

from genbench.io import (atomic_dir, atomic_write, atomic_write_json, check_dir_target, check_not_input,
                         check_replaceable_file, file_sha256, removed_on_failure, writes_here)
from genbench.sets.samples import SampleSet


def _manifest(samples: SampleSet) -> dict:
    man = dict(samples.manifest)
    man.update({"source": samples.source, "fingerprint": samples.fingerprint, "n": len(samples)})
    if samples.labels is not None:
        man["labels"] = [int(v) for v in samples.labels]
    return man


def export_npz(samples: SampleSet, out: Path) -> Path:
    arrays = {"arr_0": nchw_to_nhwc(samples.load()) if samples.kind == "images" else samples.load()}
    if samples.labels is not None:
        arrays["arr_1"] = np.asarray(samples.labels, dtype=np.int64)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    with removed_on_failure(out, manifest_path(out)):  # no .npz left without its manifest
        atomic_write(out, write)
        if writes_here():  # torchrun: only rank 0 wrote the .npz, so only it can hash it
            atomic_write_json(manifest_path(out), dict(_manifest(samples), file_sha256=file_sha256(out)))
    return out


def manifest_path(out: Path) -> Path:
    return out.with_name(out.stem + ".manifest.json")


def _read_json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _own_manifest(path: Path) -> bool:
    doc = _read_json(path)
    return doc is not None and isinstance(doc.get("file_sha256"), str) and "fingerprint" in doc


def _own_npz(path: Path) -> bool:
    doc = _read_json(manifest_path(path)) if _own_manifest(manifest_path(path)) else None
    return doc is not None and doc["file_sha256"] == file_sha256(path)


def export_folder(samples: SampleSet, out: Path, overwrite: bool = False) -> Path:
    from PIL import Image

    if samples.kind != "images":
        raise InputError(f"--out {out}: point sets can only be exported to .npz")
    names = [f"{int(s):06d}.png" for s in samples.manifest.get("seeds", [])]
    if len(names) != len(samples):
        names = [f"{i:06d}.png" for i in range(len(samples))]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        i = 0
        for batch in samples.batches(256):
            for img in nchw_to_nhwc(batch):
                Image.fromarray(img).save(tmp / names[i])
                i += 1
        atomic_write_json(tmp / "manifest.json", _manifest(samples))
    return out


def check_target(out: str | Path, overwrite: bool = False, inputs: tuple = ()) -> Path:
    """Validate an export target before any work: a .npz file path genbench may write (absent, or written
    by genbench), or a folder genbench may write (absent, empty, or exactly genbench's manifest and
    `overwrite` given; see genbench.io); neither may be, contain or lie inside one of `inputs`."""
    out = Path(out)
    check_not_input(out, list(inputs))
    if out.suffix.lower() == ".npz":
        check_not_input(manifest_path(out), list(inputs), "--out manifest")
        check_replaceable_file(out, _own_npz, "--out .npz")
        check_replaceable_file(manifest_path(out), _own_manifest, "--out manifest")
    elif out.suffix and not out.is_dir():
        raise InputError(f"--out {out}: use a folder path or a .npz file")
    else:
        check_dir_target(out, overwrite)
    return out


def export(samples: SampleSet, out: str | Path, overwrite: bool = False, inputs: tuple = ()) -> Path:
    """Write `samples` to a .npz file or a PNG folder; an existing non-empty folder is replaced only with
    `overwrite=True` and only if genbench wrote it (see check_target); `inputs` are the source paths.
    Under torchrun only rank 0 writes; the other ranks return at once (checking the target there would race
    with rank 0's writing)."""
    if not writes_here():
        return Path(out)
    out = check_target(out, overwrite, inputs)
    if out.suffix.lower() == ".npz":
        return export_npz(samples, out)
    return export_folder(samples, out, overwrite)
