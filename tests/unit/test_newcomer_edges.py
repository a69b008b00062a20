"""Issue #29's rough edges, one test each: what a newcomer hit on a fresh clone."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genbench.board.leaderboard import Leaderboard
from tests.unit.test_leaderboard import make_result

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BOARD = ROOT / "leaderboards" / "digits.jsonl"


def test_readme_gives_the_inception_weights_url():
    from genbench.features.weights import WEIGHTS

    assert WEIGHTS.get("inception-v3-tf").url in README


def test_metrics_all_makes_the_missing_weights_space_optional():
    from genbench.eval.run import resolve_protocol

    proto = resolve_protocol(None, "all", None, 0, None, "cpu")
    assert all(s.optional for s in proto.spaces)
    assert not any(s.optional for s in resolve_protocol(None, "fd", None, 0, None, "cpu").spaces)


def test_metrics_all_without_inception_weights_skips_and_says_why(capsys):
    from genbench.cli import main
    from genbench.errors import GenbenchError
    from genbench.features.weights import resolve

    try:
        resolve("inception-v3-tf")
        pytest.skip("the Inception weights are installed here")
    except GenbenchError:
        pass
    code = main(["eval", "--samples", "digits-test", "--ref", "digits-train", "--metrics", "all", "--device", "cpu",
                 "--num-samples", "40", "--num-ref", "40", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "skipped" in out and "inception-v3-tf weights not installed" in out


def test_did_you_mean_names_each_candidate_once():
    from genbench.errors import UnknownNameError
    from genbench.eval.plan import metric_request
    from genbench.registry import hint, suggest

    assert suggest("fdd", ["fd", "fd", "fid", "fid"]) == ["fd", "fid"]
    assert hint("fdd", ["fd", "fd"]) == " (did you mean 'fd'?)"
    with pytest.raises(UnknownNameError) as e:
        metric_request(["fdd"])
    said = str(e.value).split("did you mean", 1)[1].split("?")[0]
    names = [w.strip(" '") for w in said.split(",")]
    assert len(names) == len(set(names)), str(e.value)


def test_image_sizes_that_differ_are_named_before_any_work():
    from genbench.errors import InputError
    from genbench.eval.plan import check_image_sizes
    from genbench.protocols import PROTOCOLS
    from genbench.sets.samples import SampleSet

    big = SampleSet.from_array(np.zeros((4, 3, 32, 32), np.uint8), layout="NCHW")
    small = SampleSet.from_array(np.zeros((4, 3, 8, 8), np.uint8), layout="NCHW")
    spaces = PROTOCOLS.get("digits-default").spaces
    with pytest.raises(InputError, match=r"32x32 images but --ref is 8x8.*fd_pixels.*resize"):
        check_image_sizes(big, small, spaces)
    check_image_sizes(small, small, spaces)  # same size: fine
    check_image_sizes(big, small, [s for s in spaces if s.extractor != "pixels"])  # every space resizes


def test_value_range_help_shows_three_ranges(capsys):
    from genbench.cli import main

    assert main(["eval", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "0,1 | -1,1 | 0,255" in text and "{0,1,-1,1,0,255}" not in text


def test_board_show_fits_the_terminal_and_all_shows_every_column():
    from genbench.board.render import render_text

    board = Leaderboard.load(BOARD)
    group = board.group()
    narrow = render_text(board, width=100)
    assert max(len(line) for line in narrow.splitlines()) <= 100
    header = narrow.splitlines()[1]
    assert group.primary in header and "more columns not shown" in narrow
    wide = render_text(board, all_columns=True)
    assert all(m in wide.splitlines()[1] for m in group.metrics())


def test_board_show_cli_takes_all(capsys, monkeypatch):
    from genbench.cli import main

    monkeypatch.setenv("COLUMNS", "90")
    assert main(["board", "show", str(BOARD)]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 90
    assert main(["board", "show", str(BOARD), "--all"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) > 200


def test_report_cuts_the_noise_baseline_and_spreads_nearby_labels():
    from genbench.board.report import label_offsets, off_scale

    fd = np.array([6.5, 11.6, 13.0, 14.3, 16.5, 497.0])
    assert off_scale(fd).tolist() == [False] * 5 + [True]
    assert not off_scale(np.array([1.0, 2.0, 3.0])).any()
    assert not off_scale(np.array([-1.0, 2.0, 300.0])).any()  # a signed metric: never cut
    offs = label_offsets(np.array([0.85, 0.86, 0.2]), np.array([0.76, 0.75, 0.3]))
    assert offs[0] != offs[1] and offs[2] == offs[0]


def test_report_fd_chart_renders_with_the_cut():
    from genbench.board.report import bar_chart

    assert bar_chart(Leaderboard.load(BOARD).group(), "fd")  # a PNG (base64) with the noise bar cut


def test_readme_says_what_the_gate_does_without_a_features_file():
    assert "Without the features file the gate falls back" not in README
    assert "records a features file\nwhich is missing exits 2" in README


# ---- make run leaves the tree clean: rows replaced, boards compared --------------------------------------------
def test_a_suite_rerun_replaces_its_rows(tmp_path):
    path = tmp_path / "digits.jsonl"
    Leaderboard.load(path).add_result(make_result({"fd": 9.0}), "other")
    first = {"vae": make_result({"fd": 3.0, "recall": 0.5}), "gan": make_result({"fd": 2.0, "recall": 0.6})}
    Leaderboard.load(path).set_results(first)
    Leaderboard.load(path).set_results({**first, "gan": make_result({"fd": 2.5, "recall": 0.6})})
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(rows) == 5  # other's 1 + vae's 2 + gan's 2: no second copy
    assert sorted({r["entry"] for r in rows}) == [1, 2, 3]
    assert Leaderboard.load(path).to_frame().loc["gan", "fd"] == 2.5


def test_a_suite_rerun_writes_the_bytes_of_a_fresh_board(tmp_path):
    results = {"vae": make_result({"fd": 3.0}), "gan": make_result({"fd": 2.0})}
    fresh, rerun = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    Leaderboard.load(fresh).set_results(results)
    Leaderboard.load(rerun).set_results({"vae": make_result({"fd": 4.0}), "gan": make_result({"fd": 1.0})})
    Leaderboard.load(rerun).set_results(results)
    assert rerun.read_text().replace('"suite": "b"', '"suite": "a"') == fresh.read_text()


def _copy_board(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for suffix in (".jsonl", ".md", ".csv", ".ranks.json"):
        shutil.copy(BOARD.with_suffix(suffix), dst / BOARD.with_suffix(suffix).name)
    return dst / BOARD.name


def test_board_comparison_says_byte_for_byte_or_lists_cells_and_why(tmp_path):
    from genbench.bench.board_diff import compare_boards

    ours = _copy_board(tmp_path / "runs")
    same = compare_boards(ours, BOARD)
    assert same.identical and not same.cells
    md = ours.with_suffix(".md")
    gan = next(line for line in md.read_text().splitlines() if line.startswith("| ") and "| gan |" in line)
    fd_cell = gan.split(" | ")[2]  # '| # | model | fd ↓ | ...': the committed gan fd, e.g. '16.7 ± 3.1'
    md.write_text(md.read_text().replace(gan, gan.replace(f"| {fd_cell} |", "| 99.9 ± 9.9 |", 1)))
    rows = [json.loads(x) for x in ours.read_text().splitlines()]
    for r in rows:
        r["protocol"]["reproducibility"] = {"class": "x86-64 AVX2 pinned, OpenBLAS core Zen"}
    ours.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    diff = compare_boards(ours, BOARD)
    assert not diff.identical and ".md" in diff.differing_files
    assert [(c.model, c.column, c.ours, c.theirs) for c in diff.cells] == [("gan", "fd ↓", "99.9 ± 9.9", fd_cell)]
    assert any(r.startswith("reproducibility class: x86-64 AVX2 pinned, OpenBLAS core Zen here")
               for r in diff.reasons)


def test_run_command_prints_the_verdict(tmp_path, capsys):
    from genbench.commands.run import _compare

    ours = _copy_board(tmp_path / "runs")
    _compare(ours, str(BOARD.parent))
    assert f"reproduces {BOARD.with_suffix('.md')} byte for byte" in capsys.readouterr().out
    _compare(ours, "none")
    assert capsys.readouterr().out == ""
