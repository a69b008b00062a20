"""Offline, checksummed store of network weights.

Weights are never fetched silently. A weights file resolves from an explicit path (`--weights NAME=PATH`),
then from `$GENBENCH_HOME/weights/<filename>` (GENBENCH_HOME defaults to ~/.cache/genbench), and its sha256
is checked against the registry below. A file that does not match is refused unless the caller allows
unverified weights; the returned WeightsInfo then says `verified=False`. `download` is the only function
that touches the network, and only when a user asks for it (`genbench weights download NAME`).

The Inception file is the one torch-fidelity downloads (the TF 2015-12-05 graph converted to PyTorch; the
same bytes pytorch-fid publishes as pt_inception-2015-12-05-6726825d.pth). The CLIP file is OpenAI's
ViT-B-32 TorchScript archive at the URL open_clip lists for ('ViT-B-32', 'openai').
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from genbench.errors import ConfigError, WeightsError
from genbench.features.base import WeightsInfo
from genbench.io import atomic_write, lock_for
from genbench.registry import Registry

CHUNK = 1 << 20  # 1 MiB


@dataclass(frozen=True)
class WeightsEntry:
    name: str
    filename: str
    sha256: str  # full lowercase hex digest of the file
    url: str  # canonical download location
    description: str
    size: int | None = None  # bytes, where known


WEIGHTS: Registry[WeightsEntry] = Registry("weights")

WEIGHTS.add("inception-v3-tf", WeightsEntry(
    name="inception-v3-tf",
    filename="weights-inception-2015-12-05-6726825d.pth",
    # The filename carries the first 8 hex digits ('6726825d', torch.hub convention). The full digest below is
    # the value pinned by several independent public projects for this exact file (95,628,359 bytes); it was
    # not recomputed here because the file cannot be fetched offline. `genbench weights verify` checks it.
    sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
        "weights-inception-2015-12-05-6726825d.pth",
    description="TF Inception-v3 (2015-12-05) ported to PyTorch by torch-fidelity; pool3 2048-d, logits 1008",
    size=95_628_359,
))

WEIGHTS.add("clip-vit-b-32", WeightsEntry(
    name="clip-vit-b-32",
    filename="ViT-B-32.pt",
    # OpenAI publishes each CLIP file under its own sha256 (the URL's second-to-last path segment), and
    # their loader checks the download against it; open_clip lists the same URL for ('ViT-B-32', 'openai').
    sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
    url="https://openaipublic.azureedge.net/clip/models/"
        "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
    description="OpenAI CLIP ViT-B/32 (TorchScript archive, fp16); image and text towers, 512-d embeddings",
))


WEIGHTS.add("dinov2-vit-l-14", WeightsEntry(
    name="dinov2-vit-l-14",
    filename="dinov2_vitl14_pretrain.pth",
    # Meta publishes no digest for this file (torch.hub loads it without a hash check, and its name carries
    # none), and it cannot be fetched here, so no sha256 is pinned yet: the empty digest matches no file.
    # Until one is pinned the weights are unknown-until-verified: `genbench weights import dinov2-vit-l-14 PATH
    # --allow-unverified-weights` (or --weights dinov2-vit-l-14=PATH with --allow-unverified-weights) uses
    # them, and every result records weights_verified=false together with the file's actual sha256.
    sha256="",
    url="https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth",
    description="DINOv2 ViT-L/14 (Meta, official pretrain checkpoint, 304M params); CLS 1024-d (FD_DINOv2)",
))

@dataclass(frozen=True)
class WeightsStatus:
    """One row of `genbench weights list`."""

    name: str
    filename: str
    path: Path
    present: bool
    verified: bool | None  # None when the file is absent


# ---- hashing and locations ----------------------------------------------------------------------
def load_tensors(path: Path | str) -> object:
    """torch.load(weights_only=True): plain tensors and containers only, never pickled code. torch's own
    warnings about the file (its pickle protocol) are silenced: a refusal is the caller's one error line."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(path, map_location="cpu", weights_only=True)


def sha256_file(path: Path | str) -> str:
    """sha256 of a file, streamed in 1 MiB chunks (cached per path, inode, size and mtime)."""
    p = Path(path)
    st = p.stat()
    return _sha256_cached(str(p.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, inode: int, size: int, mtime_ns: int) -> str:
    return _hash_file(path)


def _hash_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def genbench_home() -> Path:
    return Path(os.environ.get("GENBENCH_HOME") or Path.home() / ".cache" / "genbench").expanduser()


def store_dir() -> Path:
    return genbench_home() / "weights"


def store_path(name: str) -> Path:
    return store_dir() / WEIGHTS.get(name).filename


def list_entries() -> list[WeightsEntry]:
    return [entry for _, entry in WEIGHTS.items()]


# ---- resolution -----------------------------------------------------------------------------------
def _missing_message(entry: WeightsEntry, expected: Path) -> str:
    return (f"weights {entry.name!r} not found: expected the file {expected}. This machine does not download "
            f"weights by itself. Get {entry.filename} from {entry.url} and run "
            f"`genbench weights import {entry.name} PATH` (or `genbench weights download {entry.name}` where "
            f"there is internet), or pass --weights {entry.name}=PATH")


def _check(entry: WeightsEntry, path: Path, allow_unverified: bool) -> WeightsInfo:
    digest = sha256_file(path)
    ok = digest == entry.sha256
    if not ok and not allow_unverified:
        raise _mismatch(entry, path, digest)
    return WeightsInfo(name=entry.name, sha256=digest, verified=ok, path=str(path))


def resolve(name: str, path: Path | str | None = None, allow_unverified: bool = False) -> tuple[Path, WeightsInfo]:
    """Find the weights file for `name`: explicit path, else $GENBENCH_HOME/weights/<filename>; check sha256."""
    entry = WEIGHTS.get(name)
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise WeightsError(f"--weights {name}={path}: no such file. " + _missing_message(entry, p))
    else:
        p = store_dir() / entry.filename
        if not p.is_file():
            raise WeightsError(_missing_message(entry, p))
    return p, _check(entry, p, allow_unverified)


def verify(name: str, path: Path | str | None = None) -> WeightsInfo:
    """Hash the stored (or given) file; never raises on a mismatch, only on a missing file."""
    _, info = resolve(name, path, allow_unverified=True)
    return info


def status(name: str) -> WeightsStatus:
    entry = WEIGHTS.get(name)
    p = store_dir() / entry.filename
    present = p.is_file()
    verified = (sha256_file(p) == entry.sha256) if present else None
    return WeightsStatus(name, entry.filename, p, present, verified)


# ---- filling the store ---------------------------------------------------------------------------
def _mismatch(entry: WeightsEntry, where: object, digest: str) -> WeightsError:
    return WeightsError(f"{where}: sha256 {digest} does not match the registered {entry.sha256} for weights "
                        f"{entry.name!r}; pass --allow-unverified-weights to use it anyway (results are then "
                        "marked unverified)")


def import_weights(name: str, src: Path | str, allow_unverified: bool = False) -> WeightsInfo:
    """Copy a local file into the store. The copy is hashed where it lies in the store (a temporary
    sibling of the final file) and renamed into place only if that hash matches, so the bytes checked
    are the bytes stored, whatever happens to `src` meanwhile."""
    entry = WEIGHTS.get(name)
    src = Path(src).expanduser()
    if not src.is_file():
        raise WeightsError(f"genbench weights import {name} {src}: no such file")
    dest = store_dir() / entry.filename
    digest: list[str] = []

    def copy_and_check(tmp: Path) -> None:
        shutil.copyfile(src, tmp)
        digest.append(_hash_file(tmp))
        if digest[0] != entry.sha256 and not allow_unverified:
            raise _mismatch(entry, src, digest[0])

    with lock_for(dest):
        atomic_write(dest, copy_and_check)
    return WeightsInfo(name=entry.name, sha256=digest[0], verified=digest[0] == entry.sha256, path=str(dest))


def download(name: str, timeout: float = 60.0) -> WeightsInfo:
    """Fetch the canonical URL into the store; the file appears only if its sha256 matches."""
    entry = WEIGHTS.get(name)
    dest = store_dir() / entry.filename

    def fetch(tmp: Path) -> None:
        h = hashlib.sha256()
        try:
            with urllib.request.urlopen(entry.url, timeout=timeout) as resp, open(tmp, "wb") as out:
                for chunk in iter(lambda: resp.read(CHUNK), b""):
                    h.update(chunk)
                    out.write(chunk)
        except OSError as e:  # URLError, HTTPError and socket errors are OSErrors
            raise WeightsError(f"download of {entry.url} failed ({e}); fetch it by other means and run "
                               f"`genbench weights import {name} PATH`") from None
        if h.hexdigest() != entry.sha256:
            raise WeightsError(f"download of {entry.url}: sha256 {h.hexdigest()} does not match the registered "
                               f"{entry.sha256}; nothing was written")

    with lock_for(dest):
        atomic_write(dest, fetch)
    return WeightsInfo(name=entry.name, sha256=entry.sha256, verified=True, path=str(dest))
