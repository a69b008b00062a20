"""A board built the README's way (`genbench eval ... --add-to`) ranks paired whenever the features are found
(cache or `--save-features` files), says "overlap (unpaired)" in the table itself when they are not, and
`genbench board rank` pairs it again. Tiny N; run through genbench.cli.main as a user would."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genbench.board.ranks import UNPAIRED
from genbench.cli import main
from genbench.data import load_dataset

N = 100
MODELS = ("real-a", "real-b", "noise")


def _sets(folder: Path) -> None:
    x = load_dataset("digits-train").data  # [1438, 3, 8, 8] uint8
    rng = np.random.default_rng(0)
    sets = {"real-a": x[:N], "real-b": x[N:2 * N], "noise": rng.integers(0, 256, (N, 3, 8, 8), dtype=np.uint8)}
    for name, images in sets.items():
        np.savez(folder / f"{name}.npz", arr_0=np.ascontiguousarray(images.transpose(0, 2, 3, 1)))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """work/board.jsonl built with --add-to (cache in work/home, features files in work/res); samples deleted."""
    work = tmp_path_factory.mktemp("ranks")
    _sets(work)
    (work / "res").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        mp.setenv("GENBENCH_HOME", str(work / "home"))
        for m in MODELS:
            rc = main(["eval", "--samples", f"{m}.npz", "--protocol", "digits-default", "--metrics", "fd",
                       "--bootstrap", "20", "--device", "cpu", "--quiet", "--json", f"res/{m}.json",
                       "--save-features", "--name", m, "--add-to", "board.jsonl"])
            assert rc == 0
    for m in MODELS:
        (work / f"{m}.npz").unlink()
    return work


def _entry(board: Path) -> dict:
    entries = json.loads(board.with_name(board.stem + ".ranks.json").read_text())
    assert len(entries) == 1
    return next(iter(entries.values()))


def _cli(argv: list[str], cwd: Path, home: Path, capsys) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        mp.setenv("GENBENCH_HOME", str(home))
        capsys.readouterr()
        rc = main(argv)
        out = capsys.readouterr()
    return rc, out.out, out.err


def _tables(board: Path, home: Path, capsys) -> dict[str, str]:
    """The board's table rows in every renderer (md, csv, html, `board show`), footnotes left out."""
    out = {}
    for fmt in ("md", "csv", "html"):
        rc, text, _ = _cli(["board", "render", str(board), "--format", fmt, "--out", "-"], board.parent, home, capsys)
        assert rc == 0
        keep = {"md": lambda s: s.startswith("| "), "csv": lambda s: True, "html": lambda s: "<td>" in s}[fmt]
        out[fmt] = "\n".join(line for line in text.splitlines() if keep(line))
    rc, text, _ = _cli(["board", "show", str(board)], board.parent, home, capsys)
    out["show"] = "\n".join(line for line in text.splitlines() if any(f"  {m}" in line for m in MODELS))
    return out


def test_add_to_ranks_paired_when_features_are_cached(built, capsys) -> None:
    entry = _entry(built / "board.jsonl")
    assert entry["method"] == "all-pairs-holm" and len(entry["pairs"]) == 3
    assert entry["labels"]["noise"] == "3" and entry["labels"]["real-a"] == entry["labels"]["real-b"]
    for fmt, rows in _tables(built / "board.jsonl", built / "home", capsys).items():
        assert UNPAIRED not in rows and "unpaired" not in rows, fmt


def test_unfound_features_say_unpaired_in_every_table_and_board_rank_restores(built, tmp_path, capsys) -> None:
    shutil.copy(built / "board.jsonl", tmp_path / "board.jsonl")  # no ranks file, no cache, no features files
    empty = tmp_path / "home"
    rc, out, _ = _cli(["board", "rank", "board.jsonl", "--device", "cpu"], tmp_path, empty, capsys)
    assert rc == 0 and "overlap (unpaired)" in out and "real-a" in out
    assert _entry(tmp_path / "board.jsonl")["method"] == "unpaired"
    tables = _tables(tmp_path / "board.jsonl", empty, capsys)
    for fmt, rows in tables.items():
        assert rows.count(UNPAIRED) == len(MODELS), (fmt, rows)
    assert tables["csv"].splitlines()[0].endswith(",rank_rule")
    # from the cache the evaluations filled
    rc, out, _ = _cli(["board", "rank", "board.jsonl", "--cache-dir", str(built / "home" / "cache"),
                       "--device", "cpu"], tmp_path, empty, capsys)
    assert rc == 0 and _entry(tmp_path / "board.jsonl")["labels"] == _entry(built / "board.jsonl")["labels"]
    assert all(UNPAIRED not in rows for rows in _tables(tmp_path / "board.jsonl", empty, capsys).values())


def test_board_rank_pairs_from_saved_features_files(built, tmp_path, capsys) -> None:
    shutil.copy(built / "board.jsonl", tmp_path / "board.jsonl")
    shutil.copytree(built / "res", tmp_path / "res")  # where --add-to recorded them, relative to the board
    rc, _, _ = _cli(["board", "rank", "board.jsonl", "--device", "cpu"], tmp_path, tmp_path / "home", capsys)
    assert rc == 0 and _entry(tmp_path / "board.jsonl")["labels"] == _entry(built / "board.jsonl")["labels"]
    (tmp_path / "res").rename(tmp_path / "elsewhere")
    rc, _, _ = _cli(["board", "rank", "board.jsonl", "--force", "--device", "cpu"], tmp_path, tmp_path / "home",
                    capsys)
    assert rc == 0 and _entry(tmp_path / "board.jsonl")["method"] == "unpaired"
    rc, _, _ = _cli(["board", "rank", "board.jsonl", "--features-dir", "elsewhere", "--device", "cpu"], tmp_path,
                    tmp_path / "home", capsys)
    assert rc == 0 and _entry(tmp_path / "board.jsonl")["method"] == "all-pairs-holm"
    (tmp_path / "elsewhere" / "noise.features.npz").write_bytes(b"not the recorded file")  # sha256 differs
    rc, _, _ = _cli(["board", "rank", "board.jsonl", "--force", "--features-dir", "elsewhere", "--device", "cpu"],
                    tmp_path, tmp_path / "home", capsys)
    entry = _entry(tmp_path / "board.jsonl")
    assert rc == 0 and entry["method"] == "unpaired" and "noise.features.npz" in entry["reason"]


@pytest.mark.parametrize("argv, says", [
    (["board", "rank", "missing.jsonl"], "missing.jsonl: no such leaderboard file"),
    (["board", "rank", "board.jsonl", "--cache-dir", "nowhere"], "--cache-dir nowhere: no such folder"),
    (["board", "rank", "board.jsonl", "--features-dir", "nowhere"], "--features-dir nowhere: no such folder"),
    (["board", "rank", "board.jsonl", "--bootstrap", "5"], "--bootstrap must be at least 20"),
    (["board", "rank", "board.txt"], "board.txt"),
])
def test_board_rank_refusals(built, tmp_path, capsys, argv: list[str], says: str) -> None:
    shutil.copy(built / "board.jsonl", tmp_path / "board.jsonl")
    (tmp_path / "board.txt").write_text("{}\n")
    rc, out, err = _cli(argv, tmp_path, tmp_path / "home", capsys)
    assert rc == 2 and says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "board.ranks.json").exists()
