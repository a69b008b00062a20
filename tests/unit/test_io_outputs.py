"""Outputs never destroy what genbench did not write: folder replacement, modes, locks, file/folder mixups."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from genbench.cli import main
from genbench.errors import InputError
from genbench.io import MARKER, atomic_dir, atomic_write_text, lock_for
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.common import run_cli

FUZZ_IO = settings(max_examples=25, deadline=None, derandomize=True, database=None)


def _digits_npz(tmp_path, n=5):
    from genbench.data import load_dataset

    path = tmp_path / "s.npz"
    np.savez(path, arr_0=load_dataset("digits-test").data[:n].transpose(0, 2, 3, 1))
    return path


def _export(src, out, *extra):
    return main(["export", str(src), "--out", str(out), *extra])


def test_export_refuses_user_folder_and_keeps_it(tmp_path, capsys):
    src, out = _digits_npz(tmp_path), tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert _export(src, out) == 2
    assert _export(src, out, "--overwrite") == 2  # no genbench marker: never replaced
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not empty" in err[0] and "not written by genbench" in err[1]
    assert (out / "thesis.tex").read_text() == "years of work" and sorted(os.listdir(out)) == ["thesis.tex"]


def test_export_overwrites_only_its_own_folder(tmp_path):
    src, out = _digits_npz(tmp_path), tmp_path / "pngs"
    assert _export(src, out) == 0 and (out / MARKER).is_file() and len(list(out.glob("*.png"))) == 5
    assert _export(src, out) == 2  # exists, no --overwrite
    (tmp_path / "x").mkdir()
    src3 = _digits_npz(tmp_path / "x", n=3)
    assert _export(src3, out, "--overwrite") == 0
    assert len(list(out.glob("*.png"))) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp or old folders


def test_empty_existing_folder_is_fine(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _export(_digits_npz(tmp_path), out) == 0


@pytest.mark.parametrize("case", ["file-for-folder", "folder-for-npz", "file-as-parent"])
def test_out_file_folder_mixups_exit_2(tmp_path, capsys, case):
    src = _digits_npz(tmp_path)
    if case == "file-for-folder":
        out = tmp_path / "plain"
        out.write_text("x")
    elif case == "folder-for-npz":
        out = tmp_path / "d.npz"
        out.mkdir()
    else:
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "out.npz"
    assert _export(src, out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and str(out.name) in err


def test_replacement_keeps_old_until_new_is_complete(tmp_path):
    path = tmp_path / "d"
    with atomic_dir(path) as tmp:
        (tmp / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(path, overwrite=True) as tmp:
            (tmp / "a").write_text("half")
            raise RuntimeError("crash while writing")
    assert (path / "a").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    with atomic_dir(path, overwrite=True) as tmp:
        (tmp / "b").write_text("new")
    assert sorted(os.listdir(path)) == [MARKER, "b"]


def test_atomic_write_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "f").write_text("y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_locks_do_not_litter_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    target = tmp_path / "out" / "board.jsonl"
    with lock_for(target):
        atomic_write_text(target, "{}\n")
    assert os.listdir(tmp_path / "out") == ["board.jsonl"]
    same = lock_for(tmp_path / "out" / ".." / "out" / "board.jsonl")
    assert same.lock_file == lock_for(target).lock_file  # one lock per real path
    assert lock_for(tmp_path / "other.jsonl").lock_file != same.lock_file


def test_atomic_write_to_folder_is_input_error(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        atomic_write_text(tmp_path, "x")


@pytest.mark.parametrize("argv", [
    ["eval", "--metrics"], ["eval", "--bogus"], ["export"], ["board", "render", "x.jsonl", "--format", "pdf"],
    ["weights"], ["generate", "d", "--num", "0", "--out", "x.npz"], ["gate", "--strict", "--nope"],
    ["papers", "nonsense-action"], ["train"], ["reproduce"], ["metrics", "--what"], ["run", "--suite"],
    ["board"], [],
])
def test_argument_errors_are_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"genbench {argv[0] if argv else ''}".strip()) and ": error: " in err[0] and "--help" in err[0]


def test_generate_checks_out_folder_before_loading_or_sampling(tmp_path: Path, capsys) -> None:
    """A user's non-empty folder as `generate --out` is refused before the model is even opened."""
    from genbench.cli import main

    user = tmp_path / "mine"
    user.mkdir()
    (user / "keep.txt").write_text("precious")
    code = main(["generate", str(tmp_path / "no-such-run"), "--num", "2", "--out", str(user)])
    err = capsys.readouterr().err
    assert code == 2 and "mine" in err and "not empty" in err and "no-such-run" not in err
    assert (user / "keep.txt").read_text() == "precious"


# ---- issue 20, class 1: genbench replaces only what it wrote, listed in its manifest, never an input ----------
def _files(root):
    return {str(p.relative_to(root)): (os.readlink(p).encode() if p.is_symlink() else p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink()}


def _no_temp_left(root):
    return [str(p) for p in root.rglob(".*") if p.name != MARKER]


def test_export_refuses_out_that_contains_the_input(tmp_path, capsys):
    out = tmp_path / "out"
    assert _export(_digits_npz(tmp_path), out) == 0
    assert _export(out, out / "copy") == 2  # --out inside the input folder
    (out / "inputs").mkdir()
    src = _digits_npz(out / "inputs")
    before = _files(tmp_path)
    assert _export(out / "inputs", out, "--overwrite") == 2  # the input lives inside --out
    assert "contains the input" in capsys.readouterr().err
    assert _files(tmp_path) == before and src.is_file()


def test_ref_out_equal_to_input_is_refused(tmp_path, capsys):
    src = _digits_npz(tmp_path)
    before = src.read_bytes()
    assert main(["ref", str(src), "--extractor", "digits-classifier", "--out", str(src), "--no-cache"]) == 2
    assert "is the input" in capsys.readouterr().err and src.read_bytes() == before


def test_ref_out_does_not_replace_a_foreign_npz(tmp_path, capsys):
    mine = tmp_path / "mine.npz"
    np.savez(mine, arr_0=np.zeros((2, 8, 8, 3), np.uint8))
    before = mine.read_bytes()
    assert main(["ref", "digits-test", "--extractor", "digits-classifier", "--out", str(mine), "--no-cache"]) == 2
    assert "not written by genbench" in capsys.readouterr().err and mine.read_bytes() == before
    ours = tmp_path / "ours.npz"
    argv = ["ref", "digits-test", "--extractor", "digits-classifier", "--out", str(ours), "--no-cache", "--num", "40"]
    assert main(argv) == 0 and main(argv) == 0  # genbench's own statistics file is replaced


def test_ref_sibling_files_follow_the_out_rule(tmp_path, capsys):
    sib = tmp_path / "a.pixels.npz"
    sib.write_bytes(b"the user's own file")
    argv = ["ref", "digits-test", "--protocol", "digits-default", "--out", str(tmp_path / "a.npz"), "--no-cache",
            "--num", "40"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "a.pixels.npz" in err and "sibling" in err and sib.read_bytes() == b"the user's own file"
    assert not (tmp_path / "a.npz").exists()  # refused before any work


def test_overwrite_refuses_folder_with_a_user_file_inside(tmp_path, capsys):
    src, out = _digits_npz(tmp_path), tmp_path / "out"
    assert _export(src, out) == 0
    (out / "notes.txt").write_text("mine")
    assert _export(src, out, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "foreign: notes.txt" in err and (out / "notes.txt").read_text() == "mine"


def test_changed_file_in_genbench_folder_is_foreign(tmp_path, capsys):
    src, out = _digits_npz(tmp_path), tmp_path / "out"
    assert _export(src, out) == 0
    png = sorted(out.glob("*.png"))[0]
    png.write_bytes(b"edited by the user")
    assert _export(src, out, "--overwrite") == 2 and png.name in capsys.readouterr().err
    assert png.read_bytes() == b"edited by the user"


def test_planted_empty_marker_does_not_make_a_folder_deletable(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"\xff\xd8 precious")
    (photos / MARKER).write_text("")
    assert _export(_digits_npz(tmp_path), photos, "--overwrite") == 2
    assert "holiday.jpg" in capsys.readouterr().err and (photos / "holiday.jpg").read_bytes() == b"\xff\xd8 precious"


def test_manifest_is_written_last_with_each_files_hash(tmp_path):
    import hashlib
    import json

    out = tmp_path / "out"
    assert _export(_digits_npz(tmp_path), out) == 0
    doc = json.loads((out / MARKER).read_text())
    files = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert sorted(doc["files"]) == files
    assert all(doc["files"][f] == hashlib.sha256((out / f).read_bytes()).hexdigest() for f in files)


@pytest.mark.parametrize("kind", ["folder", "npz"])
def test_symlink_out_is_refused_before_any_work_and_nothing_is_left(tmp_path, capsys, kind):
    src = _digits_npz(tmp_path)
    target = tmp_path / ("real" if kind == "folder" else "real.npz")
    assert _export(src, target) == 0
    link = tmp_path / ("link" if kind == "folder" else "link.npz")
    link.symlink_to(target)
    before = _files(tmp_path)
    assert _export(src, link, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err and len(err.strip().splitlines()) == 1
    assert _files(tmp_path) == before and _no_temp_left(tmp_path) == [] and link.is_symlink()


def test_export_npz_replaces_only_its_own_file(tmp_path, capsys):
    src = _digits_npz(tmp_path)
    out = tmp_path / "o.npz"
    assert _export(src, out) == 0 and _export(src, out) == 0  # genbench's own .npz (hash in its manifest)
    user = tmp_path / "u.npz"
    np.savez(user, arr_0=np.zeros((1, 2, 2, 3), np.uint8))
    before = user.read_bytes()
    assert _export(src, user) == 2 and user.read_bytes() == before
    np.savez(out, arr_0=np.ones((1, 2, 2, 3), np.uint8))  # the user replaced genbench's file
    assert _export(src, out) == 2


def test_failed_write_leaves_no_folder_behind(tmp_path):
    deep = tmp_path / "a" / "b" / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(deep) as tmp:
            (tmp / "x").write_text("half")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


_LAYOUTS = ["absent", "empty", "ours", "ours+foreign", "planted-marker", "user"]
_INPUT_AT = ["beside", "inside-out", "is-out-parent"]


def _prepare(root, layout, input_at):
    """A tree: the input .npz and the --out folder in one of the layouts above; returns (src, out)."""
    out = root / "w" / "out"
    src_dir = {"beside": root / "in", "inside-out": out / "in", "is-out-parent": root / "w"}[input_at]
    if layout in ("ours", "ours+foreign"):
        assert _export(_digits_npz(root, n=2), out) == 0
    elif layout != "absent":
        out.mkdir(parents=True)
    if layout in ("ours+foreign", "user", "planted-marker"):
        (out / "user.txt").write_text("user data")
    if layout == "planted-marker":
        (out / MARKER).write_text('{"format": "genbench-output-manifest", "files": {}}')
    src_dir.mkdir(parents=True, exist_ok=True)
    return (_digits_npz(src_dir, n=3) if input_at != "is-out-parent" else src_dir), out


@FUZZ_IO
@given(layout=st.sampled_from(_LAYOUTS), input_at=st.sampled_from(_INPUT_AT), overwrite=st.booleans())
def test_property_no_data_loss_for_random_out_and_input_layouts(layout, input_at, overwrite):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as t:
        root = Path(t)
        src, out = _prepare(root, layout, input_at)
        before = _files(root)
        code, _ = run_cli(["export", str(src), "--out", str(out), *(["--overwrite"] if overwrite else [])])
        after = _files(root)
        if code != 0:
            assert code == 2 and after == before  # refused: nothing changed at all
        else:
            assert layout not in ("ours+foreign", "user", "planted-marker") and input_at == "beside"
            kept = {k: v for k, v in before.items() if not k.startswith("w/out/")}
            assert {k: after[k] for k in kept} == kept  # everything outside --out untouched
        assert _no_temp_left(root) == []
