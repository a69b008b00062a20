"""Fuzzing model names: every name is either refused at entry (GenbenchError, nothing written) or stored
and rendered without breaking any format (one Markdown row per model, parseable CSV, no raw HTML)."""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from genbench.errors import GenbenchError
from genbench.board.leaderboard import Leaderboard
from genbench.metrics.base import MetricValue
from genbench.board.render import render
from genbench.eval.result import EvalResult
from tests.fuzz.common import FUZZ

NASTY = st.sampled_from(["|", "\\", "\n", "\r", "<", ">", "&", "=", "+", "-", "@", "\t", "$", "%", "_", "{", "#",
                         "\x00", "\u2028", "\udcff", "`", "*", " "])
NAMES = st.text(max_size=40) | st.lists(NASTY | st.characters(), max_size=12).map("".join) | st.text(min_size=195,
                                                                                                    max_size=210)


def _result() -> EvalResult:
    return EvalResult({"fd": MetricValue(1.0, None, (0.5, 1.5), {})},
                      {"protocol": "p", "protocol_version": "1", "primary": "fd"}, {"n": 1}, {}, {}, {"fd": False})


@FUZZ
@given(name=NAMES)
def test_model_names(name):
    with tempfile.TemporaryDirectory() as t:
        path = Path(t) / "b.jsonl"
        try:
            Leaderboard.load(path).add_results({"ref": _result(), name: _result()})
        except GenbenchError:
            assert not path.exists()
            return
        board = Leaderboard.load(path)
        md = render(board, "md")
        rows = [line for line in md.splitlines() if line.startswith("| ") and " fd " not in line]
        assert len(rows) == len({"ref", name})
        assert all(len(r.replace("\\\\", "").replace("\\|", "").split("|")) == 5 for r in rows), rows
        assert "<" not in md.replace("&lt;", "")
        table = list(csv.reader(io.StringIO(render(board, "csv"))))
        assert len(table) == 1 + len({"ref", name}) and all(len(r) == len(table[0]) for r in table)
        assert not any(r[2].startswith(("=", "+", "-", "@", "\t", "\r")) for r in table[1:])
        assert "<" not in render(board, "html").split("<tbody>")[1].replace("<tr>", "").replace("</tr>", "") \
            .replace("<td>", "").replace("</td>", "").split("</tbody>")[0]
        render(board, "latex")
