"""SampleSet: where images come from, plus a content fingerprint and a manifest.

Sources: a folder of images (recursive, sorted by path), an ADM-layout .npz (`arr_0`, uint8 NHWC; optional
`arr_1` labels), a .npy, an in-memory numpy array or torch tensor, a built-in dataset name, or a generator
(a callable or reference model plus a seed list). Everything becomes uint8 [N, 3, H, W]; 2-D point sets
stay float64 [N, 2]. The fingerprint is the sha256 of the kind, shape and bytes in order, so the same
images as a PNG folder, an npz or a tensor share one fingerprint.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from genbench.data import DATASETS, load_dataset
from genbench.errors import InputError
from genbench.sets.decode import decode_image, image_size
from genbench.sets.images import to_points, to_uint8_nchw

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
Reader = Callable[[int, int], np.ndarray]


class SampleSet:
    """A finite, ordered set of uint8 images [N, 3, H, W] (kind 'images') or float64 points [N, 2]."""

    def __init__(self, n: int, reader: Reader, *, kind: str, shape: tuple[int, ...], source: str,
                 labels: np.ndarray | None = None, manifest: dict | None = None,
                 dataset: str | None = None) -> None:
        self.n, self._read, self.kind, self.item_shape = n, reader, kind, tuple(shape)
        self.source, self.labels, self.dataset = source, labels, dataset
        self.manifest = dict(manifest or {})
        self._fingerprint: str | None = None

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_array(cls, x: Any, *, value_range: str | None = None, layout: str = "auto", source: str = "array",
                   labels: Sequence[int] | None = None, manifest: dict | None = None,
                   dataset: str | None = None) -> "SampleSet":
        arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
        if arr.ndim == 2 and arr.shape[1] == 2:
            data = to_points(arr, where=source)
            kind = "points"
        else:
            data = to_uint8_nchw(arr, value_range=value_range, layout=layout, where=source)
            kind = "images"
        lab = _check_labels(labels, len(data), source)
        return cls(len(data), lambda a, b: data[a:b], kind=kind, shape=data.shape[1:], source=source,
                   labels=lab, manifest=manifest, dataset=dataset)

    @classmethod
    def from_dataset(cls, name: str) -> "SampleSet":
        ds = load_dataset(name)
        return cls.from_array(ds.data, source=f"dataset:{name}", labels=ds.labels, dataset=name,
                              layout="NCHW", manifest={"num_classes": ds.num_classes, "description": ds.description,
                                                       "traits": list(ds.traits)})

    @classmethod
    def from_generator(cls, fn: Callable[[list[int]], Any], seeds: Sequence[int], *, batch_size: int = 64,
                       value_range: str | None = None, source: str = "generator",
                       progress: bool = False) -> "SampleSet":
        """Call fn(seed_batch) -> images (or (images, labels)) and materialise the set, batch by batch."""
        from genbench.progress import bar

        seeds = [int(s) for s in seeds]
        parts, labels = [], []
        for i in bar(range(0, len(seeds), batch_size), desc="generate", enabled=progress, unit="batch"):
            out = fn(seeds[i:i + batch_size])
            imgs, lab = out if isinstance(out, tuple) else (out, None)
            parts.append(np.asarray(imgs.detach().cpu().numpy() if hasattr(imgs, "detach") else imgs))
            if lab is not None:
                labels.extend(int(v) for v in np.asarray(lab).ravel())
        if not parts:
            raise InputError(f"{source}: no seeds given")
        return cls.from_array(np.concatenate(parts), value_range=value_range, source=source,
                              labels=labels or None, manifest={"seeds": seeds})

    @classmethod
    def from_diffusers(cls, pipeline: Any, seeds: Sequence[int], options: Any = None,
                       **kwargs: Any) -> "SampleSet":
        """One image per seed from a local diffusers pipeline folder (DDPM, DDIM, LDM), or from a pipeline
        object already loaded (then the device option is not applied); sharded by seed under torchrun.
        Options: a `DiffusersOptions`, or its fields as keywords (steps, eta, batch_size, device,
        progress; genbench.sets.diffusers). Needs `pip install -e .[diffusers]`."""
        from genbench.sets.diffusers import DiffusersOptions, draw

        x, source, manifest = draw(pipeline, seeds, options or DiffusersOptions(**kwargs))  # x: [N, 3, H, W] uint8
        return cls.from_array(x, layout="NCHW", source=source, manifest=manifest)

    # ---- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.n

    def read(self, start: int, stop: int) -> np.ndarray:
        return self._read(start, min(stop, self.n))

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for i in range(0, self.n, batch_size):
            yield self.read(i, i + batch_size)

    def load(self) -> np.ndarray:
        """All items in one array (uint8 [N, 3, H, W] or float64 [N, 2])."""
        return np.ascontiguousarray(self.read(0, self.n))

    @property
    def image_size(self) -> tuple[int, int] | None:
        return tuple(self.item_shape[1:]) if self.kind == "images" else None

    def take(self, n: int | None) -> "SampleSet":
        """The first n items (all if n is None); asking for more than there are is an error."""
        if n is None or n == self.n:
            return self
        if n < 1 or n > self.n:
            raise InputError(f"--num-samples {n}: {self.source} has only {self.n} items")
        lab = None if self.labels is None else self.labels[:n]
        man = dict(self.manifest)
        if "seeds" in man:
            man["seeds"] = list(man["seeds"])[:n]
        return SampleSet(n, self._read, kind=self.kind, shape=self.item_shape, source=f"{self.source}[:{n}]",
                         labels=lab, manifest=man, dataset=self.dataset)

    @property
    def fingerprint(self) -> str:
        """sha256 of kind, shape and the uint8 (or float64) bytes in order; computed once."""
        if self._fingerprint is None:
            h = hashlib.sha256(f"{self.kind}:{(self.n, *self.item_shape)}".encode())
            for batch in self.batches(256):
                h.update(np.ascontiguousarray(batch).tobytes())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def describe(self) -> dict:
        return {"source": self.source, "fingerprint": self.fingerprint, "n": self.n, "kind": self.kind,
                "shape": list(self.item_shape)}

    def __repr__(self) -> str:
        return f"SampleSet({self.source!r}, n={self.n}, kind={self.kind}, shape={self.item_shape})"


def _check_labels(labels: Sequence[int] | None, n: int, where: str) -> np.ndarray | None:
    if labels is None:
        return None
    lab = np.asarray(labels)
    if lab.ndim != 1 or len(lab) != n or not np.issubdtype(lab.dtype, np.integer):
        raise InputError(f"{where}: labels must be {n} integers, got shape {lab.shape} dtype {lab.dtype}")
    return lab.astype(np.int64)


# ---- files and folders ------------------------------------------------------------------------
def manifest_path(path: Path) -> Path:
    """Folder: DIR/manifest.json; file: NAME.manifest.json beside it."""
    return path / "manifest.json" if path.is_dir() else path.with_name(path.stem + ".manifest.json")


def _read_manifest(path: Path) -> dict:
    mp = manifest_path(path)
    if not mp.exists():
        return {}
    try:
        man = json.loads(mp.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InputError(f"{mp}: unreadable manifest ({type(e).__name__}: {e})") from None
    return check_manifest(man, mp)


def _is_int_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)


def check_manifest(man: object, where: object) -> dict:
    """A manifest is a JSON object; its `labels` and `seeds`, where present, are lists of integers."""
    if not isinstance(man, dict):
        raise InputError(f"{where}: a manifest must be a JSON object, found a JSON {type(man).__name__}")
    for key in ("labels", "seeds"):
        if key in man and not _is_int_list(man[key]):
            raise InputError(f"{where}: manifest field {key!r} must be a list of integers")
    return man


def _load_array_file(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False, mmap_mode="r"), None
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:  # our `with` closes f on any error
            if "arr_0" not in z.files:
                raise InputError(f"{path}: no 'arr_0' array (found {', '.join(z.files) or 'nothing'}); "
                                 "expected the ADM layout: arr_0 = uint8 images [N, H, W, C]")
            arr = z["arr_0"]
            labels = z["arr_1"] if "arr_1" in z.files else None
            return arr, labels
    except InputError:
        raise
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise InputError(f"{path}: contains pickled objects, which genbench refuses to load") from None
        raise InputError(f"{path}: not a valid numpy file ({e})") from None
    except (OSError, EOFError, KeyError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    except Exception as e:  # zipfile.BadZipFile and friends
        raise InputError(f"{path}: corrupt or truncated numpy file ({type(e).__name__}: {e})") from None


def from_array_file(path: Path, value_range: str | None = None) -> SampleSet:
    arr, labels = _load_array_file(path)
    man = _read_manifest(path)
    if labels is None and "labels" in man:
        labels = man["labels"]
    if labels is not None and np.asarray(labels).ndim != 1:
        labels = None
    layout = "NHWC" if path.suffix == ".npz" else "auto"
    if arr.ndim == 2:
        layout = "auto"
    return SampleSet.from_array(np.asarray(arr), value_range=value_range, layout=layout, source=str(path),
                                labels=labels, manifest=man)


def _list_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)}, recursively)")
    return files


def from_folder(folder: Path) -> SampleSet:
    files = _list_images(folder)
    size = image_size(files[0])

    def read(a: int, b: int) -> np.ndarray:
        return np.stack([decode_image(p, size) for p in files[a:b]])

    man = _read_manifest(folder)
    labels = _check_labels(man.get("labels"), len(files), str(folder)) if "labels" in man else None
    return SampleSet(len(files), read, kind="images", shape=(3, size[1], size[0]), source=str(folder),
                     labels=labels, manifest=man)


def open_samples(spec: Any, *, value_range: str | None = None, what: str = "--samples") -> SampleSet:
    """Resolve a SampleSet, a path, a dataset name, or an array/tensor."""
    if isinstance(spec, SampleSet):
        return spec
    if isinstance(spec, np.ndarray) or hasattr(spec, "detach"):
        return SampleSet.from_array(spec, value_range=value_range, source=what)
    if not isinstance(spec, (str, Path)):
        raise InputError(f"{what}: cannot make a sample set from {type(spec).__name__}")
    s = str(spec)
    if s in DATASETS:
        return SampleSet.from_dataset(s)
    path = Path(s)
    if path.is_dir():
        return from_folder(path)
    if path.is_file():
        if path.suffix.lower() in (".npz", ".npy"):
            return from_array_file(path, value_range)
        raise InputError(f"{what} {path}: unsupported file type {path.suffix!r} (use a folder of images, .npz or .npy)")
    raise InputError(f"{what} {s!r}: no such file or folder, and not a built-in dataset "
                     f"({', '.join(DATASETS.names())})")
