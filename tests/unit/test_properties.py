"""Issue #27, property-based (hypothesis), a few seconds each:

- class 3: any declared shape and dtype of any member of a statistics file is read or refused with a
  GenbenchError naming the file, never a MemoryError, a numpy error or a traceback;
- class 1: any edit of any field of a baseline result JSON (with its features file) is either refused by
  the gate (exit 2) or changes nothing the decision reads (its values are recomputed from the rows);
- class 4: control characters in a metric name, a skipped reason, a --baseline spec or a CLI argument never
  reach a rendered board (md, csv, html), the gate's lines or a CLI error raw, and an error stays one line.

Found while writing them (fixed beside): a metric name reached the HTML and terminal board headers raw; a
gate warning quoting a result's source reached stderr raw; an edited baseline protocol.seed moved the
paired interval (test_an_edited_seed_or_bootstrap_cannot_move_an_interval).
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genbench.cli import main
from genbench.errors import GenbenchError
from genbench.eval.names import unsafe_char
from tests.unit.test_gate_files import N, recorded  # noqa: F401  (a module fixture: base.json + features file)

QUICK = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
CONTROL = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]) | st.sampled_from("a=|<>[]"),
                  min_size=1, max_size=12)


def _raw(text: str) -> bool:
    """True when `text` holds a character no terminal or document should get raw (newlines aside)."""
    return unsafe_char(text.replace("\n", "")) is not None


# ---- class 3: statistics files ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stats_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stats") / "r.npz"
    assert main(["ref", "digits-test", "--extractor", "digits-classifier", "--keep-features", "--out", str(out),
                 "--no-cache", "--quiet"]) == 0
    return out


def _forge(src: Path, dst: Path, member: str, shape: tuple, dtype: str, body: bytes) -> None:
    """A copy of `src` whose `member` declares `shape` and `dtype` in its .npy header over `body`."""
    with zipfile.ZipFile(src) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    entries[f"{member}.npy"] = buf.getvalue() + body
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


@QUICK
@given(member=st.sampled_from(["mu", "sigma", "sigma_sqrt", "n", "embedding", "logits"]),
       shape=st.lists(st.integers(0, 2**40), max_size=3).map(tuple),
       dtype=st.sampled_from(["<f4", "<f8", "<i8", "|u1", "<c16", "<U3", "|b1", "<f2"]),
       body=st.integers(0, 512))
def test_any_declared_member_of_a_statistics_file_is_read_or_refused(stats_file, tmp_path_factory, member, shape,
                                                                     dtype, body):
    from genbench.refs.stats import RefStats

    path = tmp_path_factory.mktemp("forged") / "r.npz"
    _forge(stats_file, path, member, shape, dtype, b"\1" * body)
    try:
        RefStats.load(path)
    except GenbenchError as e:
        assert str(path) in str(e) and "\n" not in str(e)


@QUICK
@given(member=st.sampled_from(["digits-classifier.embedding", "digits-classifier.logits", "fingerprint", "n",
                              "format", "identities"]),
       shape=st.lists(st.integers(0, 2**40), max_size=3).map(tuple),
       dtype=st.sampled_from(["<f4", "<f8", "<i8", "|u1", "<c8", "<U3", "|b1", "<f2", "|O"]),
       body=st.integers(0, 512))
def test_any_declared_member_of_a_features_file_is_read_or_refused(tmp_path_factory, member, shape, dtype, body):
    from genbench.compare.features_file import read_features, write_features
    from genbench.compare.verify import extractor_width

    folder = tmp_path_factory.mktemp("ff")
    rows = {"digits-classifier": {"embedding": np.zeros((4, 64), np.float32), "logits": np.zeros((4, 10), np.float32)}}
    write_features(folder / "ok.npz", "ab" * 32, 4, rows, {"digits-classifier": {"name": "digits-classifier"}})
    _forge(folder / "ok.npz", folder / "r.npz", member, shape, dtype, b"\1" * body)
    try:
        read_features(folder / "r.npz", widths=extractor_width)
    except GenbenchError as e:
        assert "\n" not in str(e)


# ---- class 1: every field of a baseline result ----------------------------------------------------------------
def _leaves(doc, prefix=()):
    if isinstance(doc, dict) and doc:
        for k, v in doc.items():
            yield from _leaves(v, (*prefix, k))
    elif isinstance(doc, list) and doc:
        for i, v in enumerate(doc):
            yield from _leaves(v, (*prefix, i))
    else:
        yield prefix


def _set(doc, path, value):
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


def _gate(folder: Path, cache: Path, *extra: str) -> tuple[int, dict | None]:
    out = folder / "gate.json"
    out.unlink(missing_ok=True)
    code = main(["gate", "--candidate", str(folder / "drop.json"), "--baseline", str(folder / "base.json"),
                 "--allow-n-mismatch", "--num-samples", str(N), "--bootstrap", "20", "--cache-dir", str(cache),
                 "--json", str(out), "--quiet", *extra])
    return code, json.loads(out.read_text()) if out.is_file() else None


def _decision(report: dict) -> list:
    return [(r["rule"], r["baseline"], r["candidate"], r["diff"], r["diff_ci95"], r["status"]) for r in report["rules"]]


EDITS = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.integers(-5, 10**6),
                  st.sampled_from(["", "x", "fd", "digits-default", None, True, [], {}]))


@pytest.fixture(scope="module")
def gate_case(recorded, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("edits")
    for f in ("base.json", "base.features.npz", "drop.json", "drop.features.npz"):
        shutil.copy(recorded / f, folder / f)
    want = {}
    for mode in ((), ("--independent",)):
        code, report = _gate(folder, folder / "cache", *mode)
        assert code in (0, 1) and report["paired"] is (not mode)
        want[mode] = _decision(report)
    doc = json.loads((folder / "base.json").read_text())
    return folder, doc, want, sorted(_leaves(doc), key=str)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,  # 100-150 held when it was written
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_of_a_baseline_field_is_recomputed_or_refused(gate_case, data):
    folder, doc, want, leaves = gate_case
    path = data.draw(st.sampled_from(leaves), label="field")
    value = data.draw(EDITS, label="value")
    mode = data.draw(st.sampled_from([(), ("--independent",)]), label="mode")
    edited = json.loads(json.dumps(doc))
    _set(edited, path, value)
    (folder / "base.json").write_text(json.dumps(edited))
    try:
        code, report = _gate(folder, folder / "cache", *mode)
    finally:
        (folder / "base.json").write_text(json.dumps(doc))
    assert code == 2 or _decision(report) == want[mode], (path, value, mode)


@pytest.mark.parametrize("field,value", [("seed", 7), ("bootstrap", 1)])
@pytest.mark.parametrize("mode", [(), ("--independent",)])
def test_an_edited_seed_or_bootstrap_cannot_move_an_interval(gate_case, field, value, mode):
    """Issue #27: the paired bootstrap took its seed from the baseline file, so an edited protocol.seed chose
    the draw behind the interval (and --independent recomputed std under the file's seed and B)."""
    folder, doc, want, _ = gate_case
    edited = json.loads(json.dumps(doc))
    edited["protocol"][field] = value
    (folder / "base.json").write_text(json.dumps(edited))
    try:
        code, report = _gate(folder, folder / "cache", *mode)
    finally:
        (folder / "base.json").write_text(json.dumps(doc))
    assert code == 2 or _decision(report) == want[mode]


# ---- class 4: control characters through every message and renderer -------------------------------------------
@QUICK
@given(metric=CONTROL, reason=CONTROL)
def test_control_characters_in_metric_names_and_reasons_never_render_raw(tmp_path_factory, metric, reason):
    from genbench.board.leaderboard import Leaderboard
    from genbench.board.render import render, render_text
    from genbench.eval.result import EvalResult
    from genbench.metrics.base import MetricValue

    r = EvalResult({"fd": MetricValue(1.0, None, (0.5, 1.5), {}), metric: MetricValue(2.0, None, None, {})},
                   {"protocol": "p", "protocol_version": "1", "primary": "fd"}, {"n": 1}, {},
                   {"other": reason}, {"fd": False, metric: True})
    path = tmp_path_factory.mktemp("board") / "b.jsonl"
    try:
        Leaderboard.load(path).add_results({"m": r})
    except GenbenchError as e:
        assert not _raw(str(e))
        return
    board = Leaderboard.load(path)
    for fmt in ("md", "csv", "html"):
        assert not _raw(render(board, fmt)), fmt
    assert not _raw(render_text(board))


@QUICK
@given(text=CONTROL)
def test_control_characters_in_arguments_never_reach_an_error_raw(capsys, text):
    for argv in (["eval", "--samples", f"x{text}.npz", "--ref", "digits-test", "--quiet"],
                 ["gate", "--candidate", "digits-test", "--baseline", f"m{text}", "--board", f"b{text}.jsonl"],
                 ["board", "show", f"b{text}.jsonl"]):
        capsys.readouterr()
        code = main(argv)
        err = capsys.readouterr().err.rstrip("\n")
        assert code == 2 and "\n" not in err and not _raw(err), (argv, err)


@QUICK
@given(spec=CONTROL, why=CONTROL)
def test_values_taken_on_trust_are_listed_without_control_characters(capsys, spec, why):
    from genbench.commands.gate import _print
    from genbench.compare.gate import compare, parse_rule
    from genbench.compare.trust import trust_record
    from genbench.eval.names import safe_text
    from genbench.eval.result import EvalResult
    from genbench.metrics.base import MetricValue

    r = EvalResult({"fd": MetricValue(1.0, 0.1, (0.8, 1.2), {})}, {"protocol": "p", "n_gen": 4, "seed": 0},
                   {"n": 4}, {}, {}, {"fd": False})
    report = compare(r, r, [parse_rule("fd<=+1")], fallback_reason=why)
    record = trust_record(safe_text(spec), safe_text(why), r, ["fd"])
    _print(report, report.exit_code(), True, record)
    out = capsys.readouterr()
    assert not _raw(out.out) and not _raw(out.err) and "fd: value 1, std 0.1, ci95 [0.8, 1.2]" in out.out
