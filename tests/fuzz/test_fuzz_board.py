"""Fuzzing the leaderboard parser: random JSON lines and mutated valid rows.

Property: `Leaderboard.load` + every renderer either work or raise a GenbenchError naming the file and
line; `genbench board render` fails with exit 2, one stderr line and no output file.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from genbench.errors import GenbenchError
from genbench.board.leaderboard import Leaderboard
from genbench.board.render import FORMATS, render
from tests.fuzz.common import FUZZ, assert_clean_failure, run_cli, snapshot

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12)
VALID = {"model": "m", "metric": "fd", "value": 1.0, "std": 0.1, "ci95": [0.5, 1.5], "protocol_id": "p@1/n=1/ref=x",
         "entry": 1, "higher_is_better": False, "protocol": {"protocol": "p", "primary": "fd"},
         "samples": {"n": 1}, "reference": {}, "skipped": {}}


def _rows():
    mutated = st.builds(lambda k, v: {**VALID, k: v}, st.sampled_from(sorted(VALID)), JSON)
    dropped = st.builds(lambda k: {x: y for x, y in VALID.items() if x != k}, st.sampled_from(sorted(VALID)))
    return st.lists(mutated | dropped | JSON | st.just(VALID), min_size=1, max_size=4)


def _check(path: Path) -> None:
    try:
        board = Leaderboard.load(path)
        for fmt in FORMATS:
            render(board, fmt)
    except GenbenchError as e:
        assert path.name in str(e), str(e)


@FUZZ
@given(rows=_rows())
def test_random_rows(rows):
    with tempfile.TemporaryDirectory() as t:
        path = Path(t) / "b.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        _check(path)


@FUZZ
@given(lines=st.lists(st.binary(max_size=60), min_size=1, max_size=3))
def test_random_bytes_lines(lines):
    with tempfile.TemporaryDirectory() as t:
        path = Path(t) / "b.jsonl"
        path.write_bytes(json.dumps(VALID).encode() + b"\n" + b"\n".join(lines) + b"\n")
        _check(path)


@FUZZ
@given(rows=_rows(), fmt=st.sampled_from(["md", "csv", "latex"]))
def test_cli_board_render(rows, fmt):
    with tempfile.TemporaryDirectory() as t:
        path, out = Path(t) / "b.jsonl", Path(t) / "out.txt"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        argv = ["board", "render", str(path), "--format", fmt, "--out", str(out)]
        before = snapshot(Path(t))
        code, err = run_cli(argv)
        if code == 0:
            assert out.is_file()
            return
        assert_clean_failure(code, err, argv)
        assert snapshot(Path(t)) == before
