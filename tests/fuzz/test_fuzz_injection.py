"""Issue 20 class 3, injection into what people read: names are validated where they enter (also rows read
from a board file) and escaped for each format (Markdown, CSV, HTML, LaTeX, terminal, the gate's outputs)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genbench.board.leaderboard import Leaderboard
from genbench.board.render import render, render_text
from genbench.errors import GenbenchError, InputError
from genbench.eval.names import (ESCAPERS, escape_markdown, safe_text, unsafe_char, validate_model_name)
from genbench.eval.result import EvalResult
from genbench.metrics.base import MetricValue
from tests.fuzz.common import FUZZ, run_cli

BIDI = ["\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u200f"]


def _result() -> EvalResult:
    return EvalResult({"fd": MetricValue(1.0, None, (0.5, 1.5), {})},
                      {"protocol": "p", "protocol_version": "1", "primary": "fd"}, {"n": 1}, {}, {}, {"fd": False})


def _board(path: Path, *names: str) -> Leaderboard:
    board = Leaderboard.load(path)
    board.add_results({n: _result() for n in names})
    return Leaderboard.load(path)


def test_markdown_link_in_model_name_is_not_a_live_link(tmp_path):
    md = render(_board(tmp_path / "b.jsonl", "[click](javascript:alert(1))", "ok"), "md")
    assert "[click](" not in md and "\\[click\\](javascript:alert(1))" in md


@pytest.mark.parametrize("ch", BIDI)
def test_bidi_characters_in_hand_written_rows_are_refused_everywhere(tmp_path, ch):
    path = tmp_path / "b.jsonl"
    _board(path, "good", "other")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["model"] = f"evil{ch}gnp.exe"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match="b.jsonl:1: field 'model'"):
        Leaderboard.load(path)
    code, err = run_cli(["board", "show", str(path)])
    assert code == 2 and "Traceback" not in err and ch not in err


@pytest.mark.parametrize("ch", BIDI)
def test_bidi_characters_refused_at_name_entry(ch):
    with pytest.raises(InputError, match="format characters"):
        validate_model_name(f"a{ch}b")


def test_board_file_name_with_html_is_escaped_in_markdown_header(tmp_path):
    path = tmp_path / "<img src=x onerror=alert(1)>.jsonl"
    md = render(_board(path, "m"), "md")
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md.splitlines()[0]


def test_renderers_neutralise_unsafe_text_that_bypasses_validation():
    for fmt, esc in ESCAPERS.items():
        out = esc("a\u202eb\x1b[31mc")
        assert "\u202e" not in out and "\x1b" not in out, fmt


def test_gate_terminal_and_json_show_names_escaped(tmp_path, capsys):
    """A name from a result file reaches the gate's terminal lines and --json escaped. (Since #18 a JSON
    candidate needs its features file, so the printers are called on the report the gate builds.)"""
    from genbench.cli import main
    from genbench.commands.gate import _print, decide_gate
    from genbench.compare.gate import parse_rule
    from genbench.eval.names import safe_text

    base, cand = _result(), _result()
    cand.name = "x\u202ey\x1b[2K\rverdict: PASS"
    report, code = decide_gate(cand, base, [parse_rule("fd<=+1")], None, True, {"fallback_reason": "test"})
    _print(report, code, True)
    out = capsys.readouterr().out
    assert code in (0, 1) and "\u202e" not in out and "\x1b" not in out
    assert not any(line.startswith("verdict: PASS") for line in out.splitlines()[:-1])
    assert "\u202e" not in safe_text(report.candidate) and "\n" not in safe_text("a\nb")
    good = tmp_path / "base.json"
    base.save(good)
    assert main(["gate", "--candidate", str(good), "--baseline", str(good), "--rule", "fd<=+1",
                 "--name", "[a](b)\u2066"]) == 2


NAMES = st.text(max_size=30) | st.lists(st.sampled_from(["[", "]", "(", ")", "<", ">", "`", "*", "|", "\\", "&",
                                                         "\u202e", "\u2066", "\u2069", "\u200b", "\n", "a", "="]),
                                        max_size=14).map("".join)


@FUZZ
@given(name=NAMES)
def test_random_names_through_every_renderer(name):
    """Refused at entry (nothing written), or rendered with no unsafe character and no live Markdown/HTML."""
    with tempfile.TemporaryDirectory() as t:
        path = Path(t) / "b.jsonl"
        try:
            board = _board(path, "ref", name)
        except GenbenchError:
            assert unsafe_char(name) or not name.strip() or name != name.strip() or not name.isprintable()
            assert not path.exists()
            return
        outs = {fmt: render(board, fmt) for fmt in ("md", "csv", "html", "latex")}
        outs["text"] = render_text(board)
        for fmt, text in outs.items():
            assert unsafe_char(text.replace("\n", "")) is None, fmt
        md = outs["md"].replace("\\\\", "")
        assert "](" not in md.replace("\\]", "") and "<" not in md.replace("&lt;", "")
        assert escape_markdown(name) in outs["md"]


@FUZZ
@given(text=st.text(max_size=40))
def test_safe_text_never_passes_unsafe_characters(text):
    out = safe_text(text)
    assert unsafe_char(out) is None and len(out) == len(text)
