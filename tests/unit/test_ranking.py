"""Rank groups: paired differences against the shared reference (from cached features), interval-overlap
fallback, and the labels a rendered board shows."""
from __future__ import annotations

import numpy as np
import pytest

from genbench.data import load_dataset
from genbench.eval.run import evaluate
from genbench.board.leaderboard import Leaderboard
from genbench.board.ranks import OVERLAP_RULE, groups_from_steps, rank_labels, write_ranks
from genbench.board.render import render
from genbench.sets.samples import SampleSet

N = 300


def test_groups_from_steps() -> None:
    models = ["a", "b", "c", "d"]
    assert groups_from_steps(models, [False, True, False]) == {"a": "1–2", "b": "1–2", "c": "3–4", "d": "3–4"}
    assert groups_from_steps(models, [True, True, True]) == {"a": "1", "b": "2", "c": "3", "d": "4"}
    assert groups_from_steps(["x"], []) == {"x": "1"}


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rank")
    train = load_dataset("digits-train").data  # [1438, 3, 8, 8]
    rng = np.random.default_rng(0)
    noisy = np.clip(np.rint(train + rng.normal(0, 40, size=(len(train), 1, 8, 8))), 0, 255).astype(np.uint8)
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
    assert "paired bootstrap" in ranks.rule
    a, b = ranks.labels["model (seeds 0-299)"], ranks.labels["model (seeds 300-599)"]
    assert a == b and "–" in a
    assert ranks.labels["baseline:real-vs-real"] == "1" and ranks.labels["baseline:noise"] == "4"
    md = render(lb, "md")
    assert f"| {a} | model (seeds 0-299) |" in md and ranks.rule in md


def test_without_features_the_rule_says_interval_overlap(board, tmp_path) -> None:
    lb, _ = board
    moved = Leaderboard(lb.all_rows, path=tmp_path / "elsewhere.jsonl")  # no ranks file beside it
    ranks = rank_labels(moved.groups()[0], moved.path)
    assert ranks.rule == OVERLAP_RULE.format(primary="fd")
    assert ranks.labels["baseline:noise"] == "4"
