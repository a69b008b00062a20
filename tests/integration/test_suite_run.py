"""`genbench run`: the toy2d and digits suites complete, reruns reuse everything and reproduce the same
rows, an interrupted run finishes with the same result, and the committed tiny leaderboard is reproduced."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import genbench.bench.run_suite as runner
from genbench.board.leaderboard import Leaderboard
from genbench.bench.run_suite import RunOptions, run_suite

ROOT = Path(__file__).resolve().parents[2]


def _opts(tmp: Path, **kw) -> RunOptions:
    return RunOptions(preset="tiny", device="cpu", out=tmp / "runs", board_dir=tmp / "boards", progress=False,
                      log=False, **kw)


def _values(board_path: Path) -> dict[tuple[str, str], float | None]:
    return {(r["model"], r["metric"]): r["value"] for r in Leaderboard.load(board_path).rows()}


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    return tmp, run_suite("toy2d", _opts(tmp, report=False))


def test_toy2d_tiny_completes_with_baselines(toy_run):
    _, outcome = toy_run
    vals = _values(outcome.board_path)
    assert vals[("baseline:real-vs-real", "modes_captured")] == 8
    assert {m for m, _ in vals} == {"gan", "pacgan2", "ddpm", "baseline:real-vs-real", "baseline:noise"}
    assert outcome.board_path.with_suffix(".md").exists() and outcome.board_path.with_suffix(".csv").exists()


def test_rerun_reuses_everything_and_reproduces_rows(toy_run, monkeypatch):
    tmp, first = toy_run
    before = first.board_path.read_text()

    def no_training(*a, **k):
        raise AssertionError("a finished model was retrained")

    import sys

    rt = sys.modules["reference_models.train"]  # the package re-exports a function of the same name

    monkeypatch.setattr(rt, "_fit", no_training)
    second = run_suite("toy2d", _opts(tmp, report=False))
    assert second.board_path.read_text() == before  # identical rows: nothing appended
    assert second.timings.get("features", 0) < 5


def test_interrupted_run_finishes_with_the_same_result(toy_run, tmp_path, monkeypatch):
    _, reference = toy_run
    calls = {"n": 0}
    real_evaluate = runner._evaluate

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_evaluate(*a, **k)

    monkeypatch.setattr(runner, "_evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_suite("toy2d", _opts(tmp_path, report=False))
    monkeypatch.setattr(runner, "_evaluate", real_evaluate)
    finished = run_suite("toy2d", _opts(tmp_path, report=False))
    assert _values(finished.board_path) == _values(reference.board_path)


# The machine that wrote the committed board reproduces it bit for bit (`make run`): every result records
# its CPU (genbench.numerics.cpu_record) and library versions, and the board says where it was computed.
# Across CPUs the tiny models' training rounds differently (MKL and SIMD paths): measured between an AMD
# EPYC (AVX-512) and an Intel Xeon, ddpm fd 444.6194 vs 444.6152 (9.5e-6 relative), gan fd 3.5e-4, gan
# duplicate_pair_rate 0.0159 vs 0.0157 (0.95%, a count). CI may run on either kind, so on another CPU
# values are held to CPU_REL and the table to the same rows, ranks and columns.
CPU_REL = 2e-2


def _rank_cells(md: str) -> list[tuple[str, str]]:
    """(rank, model) of every table row of a rendered board, in order."""
    rows = [line.split("|") for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    return [(r[1].strip(), r[2].strip()) for r in rows]


def _same_machine(committed: Path) -> bool:
    """True when this process would record the committed board's CPU and library versions."""
    import numpy as np
    import torch

    from genbench.numerics import cpu_record

    p = json.loads(committed.read_text().splitlines()[0])["protocol"]
    return (p.get("cpu"), p.get("torch_version"), p.get("numpy_version")) == (cpu_record(), torch.__version__,
                                                                              np.__version__)


def _notes(md: str) -> list[str]:
    """The board's lines outside its tables, less the line that names the machine."""
    return [ln for ln in md.splitlines() if not ln.startswith("| ") and not ln.startswith("- Computed on ")]


def test_committed_tiny_digits_leaderboard_is_reproduced(tmp_path):
    committed = ROOT / "leaderboards" / "digits-tiny.jsonl"
    outcome = run_suite("digits", _opts(tmp_path, report=False))
    md, committed_md = (p.with_suffix(".md").read_text() for p in (outcome.board_path, committed))
    ours, theirs = _values(outcome.board_path), _values(committed)
    same = _same_machine(committed)  # the CPU kind and versions that wrote it: every value and the board's text
    assert ours.keys() == theirs.keys()  # (the JSONL differs only by the samples' paths, under this test's tmp)
    for key, v in theirs.items():
        assert ours[key] == (pytest.approx(v, rel=0, abs=0, nan_ok=True) if same else
                             pytest.approx(v, rel=CPU_REL, abs=1e-9, nan_ok=True)), key
    if same:
        assert md == committed_md
        return
    assert _rank_cells(md) == _rank_cells(committed_md)
    assert _notes(md) == _notes(committed_md)
    json.loads(outcome.board_path.read_text().splitlines()[0])


def test_a_pinned_run_reproduces_the_committed_tiny_board_byte_for_byte(tmp_path):
    """Issue #29: under reproducible mode (genbench.reproducible) the board is the same on every x86-64 CPU
    kind: `genbench run` in a fresh process rewrites the committed tiny board's .md, .csv and .ranks.json byte
    for byte, and its JSONL row for row except the CPU each row names. Skipped until the committed board was
    written pinned (`make boards`)."""
    import os
    import subprocess
    import sys

    from genbench import reproducible
    from genbench.bench.board_diff import compare_boards

    committed = ROOT / "leaderboards" / "digits-tiny.jsonl"
    klass = reproducible.row_class(json.loads(committed.read_text().splitlines()[0])["protocol"])
    if not reproducible.is_pinned(klass) or not reproducible.is_x86():
        pytest.skip(f"the committed tiny board is of class {klass!r}: regenerate it pinned with `make boards`")
    env = {k: v for k, v in os.environ.items() if k not in reproducible.pinned_env() and k != reproducible.OPT_OUT}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-m", "genbench", "run", "--suite", "digits", "--preset", "tiny",
                          "--out", "runs", "--board-dir", "boards", "--no-report", "--compare", "none"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    cmp = compare_boards(tmp_path / "boards" / "digits-tiny.jsonl", committed)
    assert cmp.identical, (cmp.differing_files, cmp.reasons, cmp.cells[:10])
