"""Ranks from all pairs: Holm over paired differences against the shared reference (from cached features),
the interval-overlap fallback, and the labels and columns a rendered board shows."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genbench.data import load_dataset
from genbench.eval.run import evaluate
from genbench.board.leaderboard import Leaderboard
from genbench.board.rank_file import write_ranks
from genbench.board.ranks import NOT_COMPUTED, OVERLAP_RULE, parse_label, rank_labels
from genbench.board.render import column_order, render
from genbench.compare.paired import Difference
from genbench.compare.pairwise import beats, holm, overlap_wins, p_value, rank_intervals, compare_all_pairs
from genbench.sets.samples import SampleSet

N = 300


def _diff(value: dict[str, float], sd: float):
    def diff(a: str, b: str) -> Difference:
        d = value[a] - value[b]
        return Difference("fd", value[a], value[b], d, d - 1.96 * sd, d + 1.96 * sd, sd, 200, "test")
    return diff


def test_p_value_and_holm() -> None:
    assert p_value(1.96, 1.0) == pytest.approx(0.05, abs=1e-4)
    assert p_value(0.0, 0.0) == 1.0 and p_value(1.0, 0.0) == 0.0 and p_value(math.nan, 1.0) == 1.0
    # m = 3: thresholds 0.05/3, 0.05/2, 0.05; the step-down stops at the first p above its threshold
    assert holm([0.01, 0.04, 0.02]) == [True, True, True]
    assert holm([0.01, 0.04, 0.026]) == [True, False, False]
    assert holm([0.02, 0.001, 0.9]) == [True, True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_lies_between_bonferroni_and_unadjusted(ps: list[float]) -> None:
    r = holm(ps)
    m = len(ps)
    assert all(r[i] for i in range(m) if ps[i] <= 0.05 / m)  # everything Bonferroni rejects
    assert not any(r[i] for i in range(m) if ps[i] > 0.05)  # nothing an unadjusted test keeps
    assert all(r[j] for i in range(m) if r[i] for j in range(m) if ps[j] <= ps[i])  # a prefix of sorted p


def test_all_pairs_do_not_chain_neighbours() -> None:
    # steps of 2 with sd 1.2 are not significant; the ends (4 apart) are: chaining would give 1–3 to all
    value = {"a": 0.0, "b": 2.0, "c": 4.0}
    tests = compare_all_pairs(list(value), _diff(value, 1.2))
    assert [t.significant for t in tests] == [False, True, False]
    labels = {m: r.label for m, r in rank_intervals(list(value), beats(tests, higher_is_better=False)).items()}
    assert labels == {"a": "1–2", "b": "1–3", "c": "2–3"}
    higher = {m: r.label for m, r in rank_intervals(list(value), beats(tests, higher_is_better=True)).items()}
    assert higher == {"a": "2–3", "b": "1–3", "c": "1–2"}
    assert parse_label("1–3") == (1, 3) and parse_label("4") == (4, 4)


def test_family_wise_false_separations_stay_below_alpha() -> None:
    """8 models of equal quality (independent noise, sd 1): the share of boards with any separation."""
    rng = np.random.default_rng(0)
    names = [f"m{i}" for i in range(8)]
    boards = 400
    any_sep = sum(any(t.significant for t in compare_all_pairs(names, _diff(dict(zip(names, rng.normal(0, 1, 8))),
                                                                        math.sqrt(2.0)))) for _ in range(boards))
    assert any_sep / boards <= 0.06  # Holm: <= 5% in expectation (binomial sd 1.1 points at 400 boards)
    unadjusted = sum(any(p_value(a - b, math.sqrt(2.0)) < 0.05 for i, a in enumerate(x) for b in x[i + 1:])
                     for x in rng.normal(0, 1, (boards, 8)))
    assert unadjusted / boards > 0.3  # without the correction most such boards show a false separation


def test_overlap_fallback_uses_all_pairs() -> None:
    values = {"a": 1.0, "b": 2.0, "c": 3.0}
    ci = {"a": (0.4, 1.6), "b": (1.5, 2.5), "c": (2.4, 3.6)}
    wins = overlap_wins(ci, values, higher_is_better=False)
    assert wins == {("a", "c")}
    assert {m: r.label for m, r in rank_intervals(list(values), wins).items()} == {"a": "1–2", "b": "1–3",
                                                                                  "c": "2–3"}


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rank")
    train = load_dataset("digits-train").data  # [1438, 3, 8, 8]
    rng = np.random.default_rng(0)
    noisy = np.clip(np.rint(train + rng.normal(0, 70, size=(len(train), 1, 8, 8))), 0, 255).astype(np.uint8)
    sets = {"model (seeds 0-299)": noisy[:N], "model (seeds 300-599)": noisy[N:2 * N],
            "baseline:real-vs-real": train[-N:],
            "baseline:noise": rng.integers(0, 256, size=(N, 3, 8, 8), dtype=np.uint8)}
    lb = Leaderboard(path=tmp / "b.jsonl")
    for name, images in sets.items():
        res = evaluate(SampleSet.from_array(images, layout="NCHW", source=name), "digits-test",
                       protocol="digits-default", metrics=["fd"], num_samples=N, cache_dir=tmp / "cache",
                       device="cpu", bootstrap=20)
        lb.add_result(res, name)
    return Leaderboard.load(tmp / "b.jsonl"), tmp / "cache"


def test_two_samplings_share_a_rank_and_baselines_do_not(board) -> None:
    lb, cache = board
    write_ranks(lb, [cache], reps=100)
    group = lb.groups()[0]
    ranks = rank_labels(group, lb.path)
    assert "paired bootstrap" in ranks.rule and "Holm" in ranks.rule and "6 pairs" in ranks.rule
    a, b = ranks.labels["model (seeds 0-299)"], ranks.labels["model (seeds 300-599)"]
    assert a == b and "–" in a
    assert ranks.labels["baseline:real-vs-real"] == "1" and ranks.labels["baseline:noise"] == "4"
    md = render(lb, "md")
    assert f"| {a} | model (seeds 0-299) |" in md and ranks.rule in md


def test_without_features_the_rule_says_interval_overlap(board, tmp_path) -> None:
    lb, _ = board
    moved = Leaderboard(lb.all_rows, path=tmp_path / "elsewhere.jsonl")  # no ranks file beside it
    ranks = rank_labels(moved.groups()[0], moved.path)
    assert ranks.rule == OVERLAP_RULE.format(primary="fd", why=NOT_COMPUTED) and not ranks.paired
    assert ranks.labels["baseline:noise"] == "4"


def test_columns_follow_the_protocol_and_csv_has_rank_intervals(board) -> None:
    lb, _ = board
    group = lb.groups()[0]
    assert column_order(group)[0] == "fd"
    csv = render(lb, "csv").splitlines()
    header = csv[0].split(",")
    assert header[:4] == ["protocol_id", "rank", "model", "fd"] and header[-1] == "rank_worst"
    labels = rank_labels(group, lb.path).labels
    for line in csv[1:]:
        cells = line.split(",")
        model = cells[2]
        assert (int(cells[1]), int(cells[-1])) == parse_label(labels[model])


def test_gate_metrics_come_right_after_the_primary() -> None:
    from genbench.board.leaderboard import Group

    rows = tuple({"model": "m", "metric": k, "value": 1.0, "protocol": {"protocol": "digits-default", "primary": "fd"}}
                 for k in ("vendi", "precision", "recall", "fd", "classes_covered", "coverage"))
    assert column_order(Group("x", rows)) == ["fd", "recall", "classes_covered", "coverage", "precision", "vendi"]
