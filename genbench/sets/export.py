"""Write a SampleSet as a PNG folder or an ADM-layout .npz (atomic), with its manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genbench.errors import InputError
from genbench.sets.images import nchw_to_nhwc
from genbench.io import atomic_dir, atomic_write, atomic_write_json, check_dir_target, check_file_target
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

    atomic_write(out, write)
    atomic_write_json(out.with_name(out.stem + ".manifest.json"), _manifest(samples))
    return out


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


def check_target(out: str | Path, overwrite: bool = False) -> Path:
    """Validate an export target before any work: a .npz file path, or a folder genbench may write
    (absent, empty, or written by genbench and `overwrite` given; see genbench.io.atomic_dir)."""
    out = Path(out)
    if out.suffix.lower() == ".npz":
        check_file_target(out, "--out .npz")
    elif out.suffix and not out.is_dir():
        raise InputError(f"--out {out}: use a folder path or a .npz file")
    else:
        check_dir_target(out, overwrite)
    return out


def export(samples: SampleSet, out: str | Path, overwrite: bool = False) -> Path:
    """Write `samples` to a .npz file or a PNG folder; an existing non-empty folder is replaced only with
    `overwrite=True` and only if genbench wrote it."""
    out = check_target(out, overwrite)
    if out.suffix.lower() == ".npz":
        return export_npz(samples, out)
    return export_folder(samples, out, overwrite)
