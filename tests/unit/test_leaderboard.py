"""Leaderboard: JSONL round trip, ranking, append-only replacement, refusal, atomicity, rendering."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import genbench
from genbench.cli import main
from genbench.errors import GenbenchError
from genbench.board.leaderboard import Leaderboard, protocol_id
from genbench.metrics.base import MetricValue
from genbench.board.render import FORMATS, render
from genbench.eval.result import EvalResult

DIRS = {"fd": False, "precision": True, "recall": True, "modes_captured": True, "is": True}


def make_result(values: dict[str, float], *, protocol: str = "digits-default", n: int = 1000,
                ref: str = "ab" * 32, unverified: bool = False, primary: str = "fd",
                skipped: dict[str, str] | None = None, half: float = 0.1) -> EvalResult:
    metrics = {k: MetricValue(v, half / 1.96, (v - half, v + half)) for k, v in values.items()}
    record = {"protocol": protocol, "protocol_version": "1", "primary": primary, "n_gen": n, "n_ref": 359,
              "reference_fingerprint": ref, "reference_source": "/abs/somewhere/digits-test",
              "unverified": unverified,
              "extractors": [{"extractor": "digits-classifier", "extractor_version": "1",
                              "weights": "/abs/weights/digits.safetensors", "weights_sha256": "cd" * 32,
                              "weights_verified": not unverified}]}
    return EvalResult(metrics, record, {"source": "/abs/samples", "n": n, "fingerprint": "ef" * 32},
                      {"source": "digits-test", "n": 359, "fingerprint": ref}, dict(skipped or {}),
                      {k: DIRS.get(k) for k in values})


@pytest.fixture()
def board_path(tmp_path: Path) -> Path:
    return tmp_path / "boards" / "digits.jsonl"


def test_round_trip_and_rows(board_path: Path) -> None:
    lb = Leaderboard.load(board_path)
    lb.add_result(make_result({"fd": 3.0, "recall": 0.5}), "vae")
    lb.add_result(make_result({"fd": 1.0, "recall": 0.7}), "ddpm")
    lines = board_path.read_text().splitlines()
    assert len(lines) == 4
    row = json.loads(lines[0])
    for key in ("suite", "model", "metric", "value", "std", "ci95", "higher_is_better", "protocol",
                "protocol_id", "samples", "reference", "skipped"):
        assert key in row
    assert row["suite"] == "digits"
    assert row["protocol_id"] == f"digits-default@1/n=1000/ref={'ab' * 6}"
    frame = genbench.Leaderboard.load(board_path).to_frame()
    assert list(frame.index) == ["ddpm", "vae"]
    assert frame.loc["vae", "fd"] == 3.0 and frame.loc["ddpm", "recall"] == 0.7
    assert list(frame.columns) == ["fd", "recall"]
    wide = Leaderboard.load(board_path).to_frame(ci=True)
    assert wide.loc["vae", ("fd", "ci95_lo")] == pytest.approx(2.9)
    rebuilt = Leaderboard.load(board_path).result_for("vae")
    assert rebuilt.metrics["fd"].value == 3.0 and rebuilt.directions["fd"] is False


def test_ranking_direction_higher_is_better(board_path: Path) -> None:
    lb = Leaderboard.load(board_path)
    for name, modes in (("gan", 6.0), ("pacgan", 8.0), ("noise", 1.0)):
        lb.add_result(make_result({"modes_captured": modes, "fd": 1.0}, protocol="toy2d-default",
                                  primary="modes_captured", n=2500), name)
    frame = Leaderboard.load(board_path).to_frame()
    assert list(frame.index) == ["pacgan", "gan", "noise"]
    assert list(frame.columns)[0] == "modes_captured"


def test_append_only_and_replacement(board_path: Path) -> None:
    lb = Leaderboard.load(board_path)
    lb.add_result(make_result({"fd": 5.0, "recall": 0.4}), "vae")
    before = board_path.read_text()
    lb.add_result(make_result({"fd": 2.0}), "vae")
    after = board_path.read_text()
    assert after.startswith(before) and len(after.splitlines()) == 3
    fresh = Leaderboard.load(board_path)
    frame = fresh.to_frame()
    assert list(frame.index) == ["vae"] and frame.loc["vae", "fd"] == 2.0
    assert "recall" not in frame.columns  # the latest entry replaces the model's rows as a whole
    assert len(fresh.all_rows) == 3 and len(fresh.rows()) == 1


def test_unverified_refused(board_path: Path) -> None:
    lb = Leaderboard.load(board_path)
    with pytest.raises(GenbenchError, match="UNVERIFIED"):
        lb.add_result(make_result({"fd": 1.0}, unverified=True), "vae")
    assert not board_path.exists()


def test_atomic_writes_leave_no_temp_files(board_path: Path) -> None:
    lb = Leaderboard.load(board_path)
    for i in range(3):
        lb.add_result(make_result({"fd": float(i)}), f"m{i}")
    lb.render_files(("md", "csv", "latex"))
    names = sorted(p.name for p in board_path.parent.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    assert {"digits.jsonl", "digits.md", "digits.csv", "digits.tex"} <= set(names)


def _two_protocol_board(path: Path) -> Leaderboard:
    lb = Leaderboard.load(path)
    lb.add_results({"vae": make_result({"fd": 3.0, "recall": 0.5}, skipped={"fid_inception": "weights missing"}),
                    "ddpm": make_result({"fd": 1.5, "recall": 0.6}),
                    "baseline:real-vs-real": make_result({"fd": 0.2, "recall": 0.9})})
    lb.add_result(make_result({"fd": 0.1, "recall": 0.99}, n=500), "tiny")  # different N: not comparable
    return Leaderboard.load(path)


def test_different_protocol_ids_not_ranked_together(board_path: Path) -> None:
    lb = _two_protocol_board(board_path)
    ids = lb.protocol_ids()
    assert len(ids) == 2 and "/n=1000/" in ids[0] and "/n=500/" in ids[1]
    assert list(lb.to_frame().index) == ["baseline:real-vs-real", "ddpm", "vae"]
    assert list(lb.to_frame(ids[1]).index) == ["tiny"]
    md = render(lb, "md")
    assert md.count("## ") == 2 and md.index("n=1000") < md.index("n=500")


def test_rendering_deterministic_without_paths(board_path: Path, tmp_path: Path) -> None:
    lb = _two_protocol_board(board_path)
    first = {f: render(lb, f) for f in FORMATS}
    again = {f: render(Leaderboard.load(board_path), f) for f in FORMATS}
    assert first == again
    for text in first.values():
        assert "/abs/" not in text and str(tmp_path) not in text
    md = first["md"]
    assert "fd ↓" in md and "recall ↑" in md
    assert "Skipped fid_inception: weights missing (vae)" in md
    assert "weights sha256 " + "cd" * 6 in md and "N gen = 1000, N ref = 359" in md
    assert "| 2 overlap (unpaired) | ddpm | 1.50 ± 0.10 | 0.60 ± 0.10 |" in md  # no features: said in the table
    lb.render_files(("md", "csv"))
    b1 = board_path.with_suffix(".md").read_bytes(), board_path.with_suffix(".csv").read_bytes()
    Leaderboard.load(board_path).render_files(("md", "csv"))
    assert b1 == (board_path.with_suffix(".md").read_bytes(), board_path.with_suffix(".csv").read_bytes())
    header = first["csv"].splitlines()[0].split(",")
    assert header[:4] == ["protocol_id", "rank", "model", "fd"] and "fd_ci95_lo" in header
    assert "\\toprule" in first["latex"] and "$\\downarrow$" in first["latex"]
    assert first["html"].count('<table class="leaderboard"') == 2


def test_board_cli(board_path: Path, capsys: pytest.CaptureFixture) -> None:
    _two_protocol_board(board_path)
    assert main(["board", "show", str(board_path)]) == 0
    out = capsys.readouterr().out
    assert out.index("baseline:real-vs-real") < out.index("ddpm") < out.index("vae")
    assert main(["board", "render", str(board_path), "--format", "csv", "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("protocol_id,rank,model")
    assert main(["board", "render", str(board_path), "--format", "latex"]) == 0
    assert board_path.with_suffix(".tex").exists()
    assert main(["board", "show", str(board_path.parent / "missing.jsonl")]) == 2


def test_readding_identical_results_leaves_the_file_unchanged(tmp_path):
    from genbench.board.leaderboard import Leaderboard
    from genbench.metrics.base import MetricValue
    from genbench.eval.result import EvalResult

    res = EvalResult({"fd": MetricValue(1.5, 0.1, (1.3, 1.7))},
                     {"protocol": "digits-default", "protocol_version": "1", "n_gen": 10, "primary": "fd",
                      "reference_fingerprint": "ab" * 32},
                     {"source": "x", "fingerprint": "cd" * 32, "n": 10}, {"source": "r"}, {}, {"fd": False}, "m")
    path = tmp_path / "b.jsonl"
    Leaderboard.load(path).add_result(res, "m")
    first = path.read_text()
    Leaderboard.load(path).add_result(res, "m")
    assert path.read_text() == first
    res.metrics["fd"] = MetricValue(2.0)
    Leaderboard.load(path).add_result(res, "m")
    assert len(path.read_text().splitlines()) == 2
    assert Leaderboard.load(path).to_frame().loc["m", "fd"] == 2.0
