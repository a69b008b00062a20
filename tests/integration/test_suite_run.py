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


def test_committed_tiny_digits_leaderboard_is_reproduced(tmp_path):
    committed = ROOT / "leaderboards" / "digits-tiny.jsonl"
    outcome = run_suite("digits", _opts(tmp_path, report=False))
    ours = _values(outcome.board_path)
    theirs = _values(committed)
    assert ours.keys() == theirs.keys()
    for key, v in theirs.items():
        assert ours[key] == pytest.approx(v, rel=1e-6, abs=1e-9, nan_ok=True), key
    assert outcome.board_path.with_suffix(".md").read_text() == committed.with_suffix(".md").read_text()
    json.loads(outcome.board_path.read_text().splitlines()[0])
