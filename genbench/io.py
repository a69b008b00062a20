"""Atomic, locked file writes shared by caches, leaderboards, checkpoints and exports.

- Files: written to a temporary sibling, fsynced, renamed onto the target; the mode follows the umask
  (as `open()` would give), not mkstemp's 0600.
- The output rule: genbench replaces only what it wrote, listed in its manifest, and never an input.
  Every folder genbench writes ends with a manifest (`MARKER`, written last): the sha256 of each file it
  wrote. An existing non-empty folder is refused unless `overwrite=True`, and even then only when its
  contents are exactly that manifest's (a file added, changed, or a link inside makes it foreign: exit 2
  listing the foreign entries). An empty or hand-made marker proves nothing. Symbolic links as outputs
  are refused before any work (check_dir_target / check_file_target), and an output path that equals,
  contains or lies inside an input is refused (check_not_input). The new content is written to a
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
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from filelock import FileLock

from genbench.errors import InputError

MARKER = ".genbench-output"
MANIFEST_FORMAT = "genbench-output-manifest"
_SHOW = 8  # foreign entries named in an error message


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
    """An output file path must not be an existing folder or a symbolic link (exit 2 naming it)."""
    if path.is_symlink():
        raise InputError(f"{path}: is a symbolic link (to {os.readlink(path)}); genbench does not write through "
                         f"links: give the real path of the {what}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; the {what} is a file, give a file path")
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(f"{path.parent}: is a file, so {path.name} cannot be written inside it")


def check_replaceable_file(path: Path, owned: Callable[[Path], bool], what: str = "--out") -> None:
    """Refuse an output file that exists and that `owned(path)` does not recognise as genbench's own."""
    check_file_target(path, what)
    if path.exists() and not owned(path):
        raise InputError(f"{what} {path}: exists and was not written by genbench; refusing to replace it "
                         "(genbench replaces only what it wrote): remove it or choose another path")


def writes_here() -> bool:
    """False on torchrun ranks other than 0: outputs are written by rank 0 only (genbench.distributed)."""
    dist = sys.modules.get("genbench.distributed")
    return dist is None or dist.is_main()


def atomic_write(path: Path | str, write: Callable[[Path], None], any_rank: bool = False) -> Path:
    """Call write(tmp_path), fsync it, then rename onto path; nothing half-written is ever visible. Under
    torchrun only rank 0 writes, unless `any_rank` (a node-local cache, written by the rank its caller chose)."""
    path = Path(path)
    if not (any_rank or writes_here()):
        return path
    check_file_target(path)
    made = make_parents(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    done = False
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~current_umask())
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
        done = True
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        if not done:
            remove_empty(made)
    return path


def make_parents(path: Path) -> list[Path]:
    """Create the missing folders above `path`; returns them, deepest first (to undo on failure)."""
    missing = [p for p in path.parents if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are still empty: a failed write leaves nothing behind."""
    for d in folders:
        with contextlib.suppress(OSError):
            d.rmdir()


@contextlib.contextmanager
def removed_on_failure(*paths: Path | str) -> Iterator[None]:
    """A failed command removes everything it created: when the block raises (Ctrl-C included), each of
    `paths` that did not exist when the block began and is now a regular file is removed. What existed
    before (a file the command overwrote, a link, a folder) is never removed: genbench did not create it."""
    new = [Path(p) for p in paths if not os.path.lexists(p)]
    try:
        yield
    except BaseException:
        for p in new:
            if p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    """sha256 of a regular file; anything else (a FIFO, a device, a folder) is refused before it is read, so
    a hand-edited list of files can never make genbench wait forever on a pipe."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InputError(f"{path}: not a regular file (only regular files are hashed)")
        h = hashlib.sha256()
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object_pairs_hook: an object that names one key twice is refused (ValueError naming the key).
    JSON parsers keep the last value and a reader sees the first, so a file could say two things at once."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r} in one JSON object")
        out[k] = v
    return out


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# ---- folders --------------------------------------------------------------------------------------
def folder_manifest(folder: Path) -> dict:
    """{relative path: sha256} of every file under `folder` (the manifest itself excluded)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != MARKER)
    return {p.relative_to(folder).as_posix(): file_sha256(p) for p in files}


def write_manifest(folder: Path) -> None:
    """Record what genbench wrote into `folder`; written last, after every other file."""
    doc = {"format": MANIFEST_FORMAT, "written_by": "genbench", "files": folder_manifest(folder)}
    (folder / MARKER).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, str] | None:
    """The files genbench recorded in `folder`, or None when there is no valid manifest."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    files = doc.get("files") if isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT else None
    ok = isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    return files if ok else None


def foreign_entries(folder: Path) -> list[str]:
    """Entries of `folder` genbench did not write: not in its manifest, changed since, links, stray folders."""
    listed = read_manifest(folder)
    entries = sorted(folder.rglob("*"))
    if listed is None:
        return [p.relative_to(folder).as_posix() for p in entries if p.parent == folder]
    dirs = {q.as_posix() for k in listed for q in Path(k).parents if q != Path(".")}
    return [rel for rel in (p.relative_to(folder).as_posix() for p in entries) if rel != MARKER
            and not _owned(folder / rel, rel, listed, dirs)]


def _owned(p: Path, rel: str, listed: dict[str, str], dirs: set[str]) -> bool:
    if p.is_symlink():
        return False
    if p.is_dir():
        return rel in dirs
    return rel in listed and p.is_file() and file_sha256(p) == listed[rel]  # a FIFO or device is never ours


def _foreign_message(what: str, path: Path, foreign: list[str]) -> str:
    shown = ", ".join(foreign[:_SHOW]) + (f" and {len(foreign) - _SHOW} more" if len(foreign) > _SHOW else "")
    why = (f"was not written by genbench (no valid {MARKER} manifest)" if read_manifest(path) is None
           else "holds entries genbench did not write")
    return (f"{what} {path}: folder {why}; refusing to replace it even with --overwrite "
            f"(genbench replaces only what it wrote, listed in its manifest); foreign: {shown}")


def check_dir_target(path: Path | str, overwrite: bool = False, what: str = "--out") -> None:
    """Refuse (InputError) an output folder that is a link or a file, or that holds content genbench may
    not replace: non-empty without `overwrite`, or anything beyond its manifest. Call before long work."""
    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{what} {path}: is a symbolic link (to {os.readlink(path)}); genbench does not "
                         "write through links: give the real folder")
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path}: is a file; a folder is expected here")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise InputError(f"{what} {path}: folder exists and is not empty; pass --overwrite to replace it "
                         "(only folders written by genbench are replaced)")
    foreign = foreign_entries(path)
    if foreign:
        raise InputError(_foreign_message(what, path, foreign))


def _real(p: Path | str) -> Path:
    return Path(os.path.realpath(os.path.abspath(p)))


def check_not_input(out: Path | str, inputs: list[Any], what: str = "--out") -> None:
    """Refuse an output path that equals, contains or lies inside an input path (inputs that are not
    existing paths, e.g. dataset names or arrays, are ignored)."""
    o = _real(out)
    for spec in inputs:
        if not isinstance(spec, (str, Path)) or not os.path.lexists(spec):
            continue
        i = _real(spec)
        if o == i or o in i.parents or i in o.parents:
            rel = "is" if o == i else "contains" if o in i.parents else "lies inside"
            raise InputError(f"{what} {out}: {rel} the input {spec}; genbench never writes over or around "
                             "its inputs, choose another output path")


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
    genbench's manifest (written last), so a later run with overwrite=True may replace it while its
    contents are unchanged. On failure nothing is left: no temporary folder, no folder created above it.
    """
    path = Path(path)
    if not writes_here():  # another rank: write into a scratch folder that is thrown away
        with tempfile.TemporaryDirectory() as scratch:
            yield Path(scratch)
        return
    check_dir_target(path, overwrite, what)
    made = make_parents(path)
    tmp = _private_mkdtemp(path)
    done = False
    try:
        yield tmp
        write_manifest(tmp)
        with lock_for(path):
            check_dir_target(path, overwrite, what)  # another process may have filled it meanwhile
            _replace_dir(tmp, path)
        done = True
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
        if not done:
            remove_empty(made)
