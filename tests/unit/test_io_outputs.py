"""Outputs never destroy what genbench did not write: folder replacement, modes, locks, file/folder mixups."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from genbench.cli import main
from genbench.errors import InputError
from genbench.io import MARKER, atomic_dir, atomic_write_text, lock_for


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
