"""Issue #27 class 5, second half: a failed command removes everything it created, and nothing else.

eval writes R.features.npz, R.json, then a board row; ref writes one statistics file per feature space;
export to .npz writes the file and its manifest. A failure after the first write (simulated here where a
real one would need a full disk) leaves none of the files the command created, while a file that was
there before the command is kept."""
from __future__ import annotations

from pathlib import Path

import pytest

from genbench.cli import main
from genbench.errors import GenbenchError
from genbench.io import removed_on_failure

EVAL = ["eval", "--samples", "digits-train", "--protocol", "digits-default", "--metrics", "fd,pr,modes",
        "--num-samples", "50", "--bootstrap", "0", "--no-cache", "--quiet"]


def _fail(*_a, **_k):
    raise GenbenchError("simulated failure after the first write")


def test_removed_on_failure_removes_only_what_the_block_created(tmp_path: Path) -> None:
    old, new, link = tmp_path / "old.txt", tmp_path / "new.txt", tmp_path / "link"
    old.write_text("mine")
    with pytest.raises(KeyboardInterrupt), removed_on_failure(old, new, link):
        old.write_text("changed")
        new.write_text("made here")
        link.symlink_to(old)
        raise KeyboardInterrupt
    assert old.read_text() == "changed" and not new.exists() and link.is_symlink()
    with removed_on_failure(new):
        new.write_text("kept")  # no failure: kept
    assert new.read_text() == "kept"


def test_eval_that_fails_after_the_features_file_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    """`eval --save-features --json R.json` failing after writing R.features.npz removes it."""
    from genbench.eval.result import EvalResult

    monkeypatch.setattr(EvalResult, "save", _fail)
    assert main([*EVAL, "--json", str(tmp_path / "R.json"), "--save-features"]) == 2
    assert "simulated failure" in capsys.readouterr().err and sorted(tmp_path.iterdir()) == []


def test_eval_refused_by_the_board_writes_no_result(tmp_path: Path, monkeypatch, capsys) -> None:
    """A board that refuses the result (here: as if its weights were unverified) is asked before R.json and
    R.features.npz are written; a board failing while it appends removes the two files again."""
    from genbench.board.leaderboard import Leaderboard
    from genbench.eval.result import EvalResult

    argv = [*EVAL, "--json", str(tmp_path / "R.json"), "--save-features", "--add-to", str(tmp_path / "b.jsonl"),
            "--name", "m"]
    monkeypatch.setattr(EvalResult, "unverified", property(lambda self: True))
    assert main(argv) == 2
    assert "UNVERIFIED" in capsys.readouterr().err and sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr(Leaderboard, "add_result", _fail)
    assert main(argv) == 2 and sorted(p.name for p in tmp_path.iterdir()) == []


def test_eval_keeps_a_result_file_that_was_there_before(tmp_path: Path, monkeypatch) -> None:
    from genbench.board.leaderboard import Leaderboard

    (tmp_path / "R.json").write_text("{}")  # the user's (eval may overwrite it, but never deletes it)
    monkeypatch.setattr(Leaderboard, "add_result", _fail)
    assert main([*EVAL, "--json", str(tmp_path / "R.json"), "--save-features", "--add-to",
                 str(tmp_path / "b.jsonl"), "--name", "m"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R.json"]


def test_ref_that_fails_on_its_second_space_removes_the_first(tmp_path: Path, monkeypatch) -> None:
    from genbench.refs.stats import RefStats

    real_save, calls = RefStats.save, []

    def save_once(self, path):
        calls.append(path)
        return real_save(self, path) if len(calls) == 1 else _fail()

    monkeypatch.setattr(RefStats, "save", save_once)
    code = main(["ref", "digits-test", "--protocol", "digits-default", "--out", str(tmp_path / "r.npz"),
                 "--no-cache", "--quiet"])
    assert code == 2 and len(calls) == 2 and sorted(tmp_path.iterdir()) == []


def test_export_npz_without_its_manifest_is_removed(tmp_path: Path, monkeypatch) -> None:
    import genbench.sets.export as export

    monkeypatch.setattr(export, "atomic_write_json", _fail)
    assert main(["export", "digits-test", "--out", str(tmp_path / "x.npz")]) == 2
    assert sorted(tmp_path.iterdir()) == []
