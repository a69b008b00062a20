"""Atomic, locked file writes shared by caches, leaderboards, checkpoints and exports.

- Files: written to a temporary sibling, fsynced, renamed onto the target; the mode follows the umask
  (as `open()` would give), not mkstemp's 0600.
- Folders (`atomic_dir`): never remove what genbench did not create. An existing non-empty folder is
  refused unless `overwrite=True`, and even then only a folder that carries genbench's marker file
  (`MARKER`, written into every folder genbench creates) is replaced. The new content is written to a
  temporary sibling; on Linux the two folders are swapped in one `renameat2(RENAME_EXCHANGE)` call,
  elsewhere the old folder is renamed aside and the new one renamed into place. Old and new content both
  exist on disk at every moment: a crash leaves the old folder in place (or, between the two renames of
  the fallback, beside it as `.<name>.old-*`) and the new one as `.<name>.*.tmp`; nothing is lost.
- Locks live in `$GENBENCH_HOME/locks/<sha256 of the target's real path>.lock`, not beside user
  outputs. Every writer of one target on one machine (same GENBENCH_HOME) takes the same lock file, and
  the lock files are never deleted (deleting a lock file that another process holds or waits on would
  let two writers in at once).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from filelock import FileLock

from genbench.errors import InputError

MARKER = ".genbench-output"


# ---- locks ----------------------------------------------------------------------------------------
def lock_dir() -> Path:
    home = Path(os.environ.get("GENBENCH_HOME") or Path.home() / ".cache" / "genbench").expanduser()
    for d in (home / "locks", Path(tempfile.gettempdir()) / f"genbench-locks-{os.getuid()}"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            return d
        except OSError:
            continue
    raise InputError(f"cannot create a lock folder under {home} or {tempfile.gettempdir()}")


def lock_for(path: Path | str) -> FileLock:
    """The inter-process lock of writers of `path` (kept in lock_dir(), keyed by the real path)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    real = os.path.join(os.path.realpath(path.parent), path.name)
    key = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return FileLock(str(lock_dir() / f"{key}.lock"))


# ---- files ----------------------------------------------------------------------------------------
def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask is a set-and-get)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def check_file_target(path: Path, what: str = "output") -> None:
    """An output file path must not be an existing folder (exit 2 naming it, not IsADirectoryError)."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; the {what} is a file, give a file path")
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(f"{path.parent}: is a file, so {path.name} cannot be written inside it")


def writes_here() -> bool:
    """False on torchrun ranks other than 0: outputs are written by rank 0 only (genbench.distributed)."""
    dist = sys.modules.get("genbench.distributed")
    return dist is None or dist.is_main()


def atomic_write(path: Path | str, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path), fsync it, then rename onto path; nothing half-written is ever visible."""
    path = Path(path)
    if not writes_here():
        return path
    check_file_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~current_umask())
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# ---- folders --------------------------------------------------------------------------------------
def is_genbench_dir(path: Path) -> bool:
    return (path / MARKER).is_file()


def check_dir_target(path: Path | str, overwrite: bool = False, what: str = "--out") -> None:
    """Refuse (InputError) an output folder that exists as a file, or that holds content genbench may
    not replace: non-empty without `overwrite`, or without genbench's marker. Call before long work."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path}: is a file; a folder is expected here")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise InputError(f"{what} {path}: folder exists and is not empty; pass --overwrite to replace it "
                         "(only folders written by genbench are replaced)")
    if not is_genbench_dir(path):
        raise InputError(f"{what} {path}: folder was not written by genbench (no {MARKER} marker); "
                         "refusing to replace it even with --overwrite")


def _private_mkdtemp(path: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where the call is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _replace_dir(new: Path, path: Path) -> None:
    """Put `new` at `path`; the old folder (if any) is removed only after the new one is in place."""
    if not path.exists():
        os.rename(new, path)
        return
    if _exchange(new, path):
        shutil.rmtree(new)  # `new` now holds the old content
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.rename(path, old / "d")
    os.rename(new, path)
    shutil.rmtree(old)


@contextlib.contextmanager
def atomic_dir(path: Path | str, overwrite: bool = False, what: str = "--out") -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `path` as a whole (see the module doc).

    Refuses, before anything is written, a `path` that check_dir_target refuses. The new folder carries
    genbench's marker file, so a later run with overwrite=True may replace it.
    """
    path = Path(path)
    if not writes_here():  # another rank: write into a scratch folder that is thrown away
        with tempfile.TemporaryDirectory() as scratch:
            yield Path(scratch)
        return
    check_dir_target(path, overwrite, what)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _private_mkdtemp(path)
    try:
        yield tmp
        (tmp / MARKER).write_text(json.dumps({"written_by": "genbench"}) + "\n", encoding="utf-8")
        with lock_for(path):
            check_dir_target(path, overwrite, what)  # another process may have filled it meanwhile
            _replace_dir(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
