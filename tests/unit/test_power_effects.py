"""What a pilot can tell (genbench.compare.effects, power): the pilot effect's uncertainty carried into the
predicted rate, the target statement, FD's minimum pilot, partial class dropping, and class_share decided
by its exact interval as the gate decides it (issue #28, point 3)."""
from __future__ import annotations

import numpy as np
import pytest

from genbench.compare.effects import resampled_effect, simultaneous_z, undistinguished, wilson
from genbench.compare.gate import Rule
from genbench.compare.laws import Pilot, RuleLaw, VarianceLaw, exact_stop_rate, is_exact, pilot_sizes
from genbench.compare.paired import Side
from genbench.compare.power import Plan, PlanOptions, PlanRow, Target, joint_stop, normals, plan, target_statement
from genbench.compare.regressions import Regression, partial_kept_rows, partial_rows
from genbench.errors import ConfigError
from genbench.metrics.base import MetricConfig


def test_simultaneous_z_and_wilson() -> None:
    assert simultaneous_z(1) == pytest.approx(1.959964, abs=1e-5)
    assert simultaneous_z(3) == pytest.approx(2.393980, abs=1e-5)
    lo, hi = wilson(0.0, 40)
    assert lo == 0.0 and hi == pytest.approx(3.8415 / 43.8415, rel=1e-3)
    assert wilson(0.5, 100)[0] < 0.5 < wilson(0.5, 100)[1]


def test_effect_distinguishable_and_statement() -> None:
    assert resampled_effect(3.0, 1.0)["distinguishable"] and not resampled_effect(1.0, 1.0)["distinguishable"]
    assert undistinguished({"fd": resampled_effect(3.0, 1.0)}) is None
    text = undistinguished({"fd": resampled_effect(1.0, 1.0), "recall": resampled_effect(-0.01, 0.02)})
    assert "not distinguishable from zero" in text


def test_rate_interval_brackets_the_plug_in_and_shrinks_with_se() -> None:
    """δ moved by z·se towards passing and failing brackets the rate at δ̂; with se = 0 all three agree."""
    rule, z = Rule("fd", "<=", 10.0), normals(1, 0)
    for se, wide in ((2.0, True), (0.0, False)):
        law = RuleLaw(VarianceLaw(400.0, 0.0, 6.0, se), VarianceLaw(400.0, 0.0, 6.0))
        args = ([rule], [law], np.eye(1), 1000, z, [])
        mid, lo, hi = joint_stop(*args), joint_stop(*args, shift=-1.96), joint_stop(*args, shift=1.96)
        assert lo <= mid <= hi and (hi - lo > 0.3) == wide
        assert joint_stop(*args, spread=True) == pytest.approx(mid, abs=0.3 if wide else 1e-12)


def _plan(rows: list[PlanRow], target: Target = Target()) -> Plan:
    from genbench.compare.power import smallest_n

    return Plan(tuple(rows), {}, target, smallest_n(rows, target))


def test_target_statement_names_the_missed_target() -> None:
    rows = [PlanRow(500, 0.80, 0.30, {}, (0.6, 0.9)), PlanRow(1000, 0.968, 0.061, {}, (0.90, 0.99))]
    text = target_statement(_plan(rows))
    assert "none of the planned N reaches both; the closest, N = 1,000" in text
    assert "detection 96.8% meets its target" in text and "false alarms 6.1% are 1.1 points over" in text
    rows = [PlanRow(1000, 0.97, 0.03, {}, (0.4, 0.99))]
    text = target_statement(_plan(rows))
    assert "N = 1,000" in text and "straddles the 95% target" in text
    from genbench.compare.power import notes

    assert any("uncertain by more than 50 points" in n for n in notes(_plan(rows)))


def test_fd_needs_a_pilot_four_times_its_dimension() -> None:
    assert pilot_sizes(1438, floor=192) == (192, 359, 719)
    with pytest.raises(ConfigError, match="at least 768 rows"):
        pilot_sizes(718, floor=192)
    assert pilot_sizes(400, replace=True, floor=192) == (192, 200, 400)


def test_partial_class_rows_keep_the_share() -> None:
    labels = np.arange(2000) % 10  # 10 equal classes
    rows = partial_kept_rows(labels, 10, 1, 0.3, seed=0)
    counts = np.bincount(labels[rows], minlength=10) / len(rows)
    low = counts.min()
    assert low == pytest.approx(0.03, abs=0.002) and (counts > 0.1).sum() == 9
    drawn = partial_rows(np.random.default_rng(0), labels, 1000, 4, 0.3)
    assert len(drawn) == 1000 and (labels[drawn] == 4).sum() == 30


@pytest.mark.parametrize("share, kind, needle", [(None, "partial-class", "--share"), (1.0, "partial-class", "--share"),
                                                 (0.0, "partial-class", "--share"), (0.3, "blur", "--share")])
def test_partial_class_validates_its_share(share, kind, needle) -> None:
    with pytest.raises(ConfigError, match=needle):
        Regression(kind, 1.0, 0, share)


@pytest.mark.parametrize("argv, needle", [
    (["--kind", "partial-class", "--size", "1"], "--share"),
    (["--kind", "partial-class", "--size", "1", "--share", "1.5"], "--share"),
    (["--kind", "blur", "--size", "1", "--share", "0.3"], "--share"),
])
def test_power_partial_class_bad_input_exits_2(argv, needle, capsys) -> None:
    from genbench.cli import main

    assert main(["power", "--baseline", "digits-train", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def _classes(rng: np.random.Generator, labels: np.ndarray) -> dict:
    return {"class_probs": np.eye(10)[labels], "embedding": rng.standard_normal((len(labels), 2))}


def test_class_share_is_decided_by_its_interval() -> None:
    """class_share is simulated as the gate decides it (status_of on its exact interval): one class kept at 30%
    is stopped at N = 1,000 nearly always, a same-distribution candidate almost never."""
    rng = np.random.default_rng(0)
    rule = Rule("class_share", ">=", -0.6)
    assert is_exact(rule)
    base = _classes(rng, rng.integers(0, 10, 4000))
    same = _classes(rng, rng.integers(0, 10, 4000))
    part = Side(base, partial_kept_rows(base["class_probs"].argmax(1), 10, 1, 0.3, seed=0))
    args = (Side(base), Side(base), 1000, 100, 0, MetricConfig(), {}, {})
    assert exact_stop_rate(rule, part, *args) >= 0.95
    assert exact_stop_rate(rule, Side(same), *args) <= 0.05


def test_plan_of_a_same_distribution_pilot_says_its_effect_is_zero_like() -> None:
    rng = np.random.default_rng(3)
    g = lambda n: {"embedding": rng.standard_normal((n, 4))}  # noqa: E731
    base, ref = g(400), g(400)
    pilot = Pilot(Side(g(400)), Side(base), Side(base), Side(ref))
    p = plan({Rule("fd", "<=", 0.15): pilot}, MetricConfig(), PlanOptions(sizes=(400, 1600), reps=50, draws=20))
    j = p.to_json()
    assert j["effect_distinguishable"] is False and any("not distinguishable" in n for n in j["notes"])
    for row in j["rows"]:
        lo, hi = row["detection_interval"]
        assert lo <= row["false_alarm"] + 0.02 and lo <= row["detection"] <= hi and row["reliable"]


def test_power_refuses_a_pilot_too_small_for_fd(tmp_path, capsys) -> None:
    """A 718-image pilot: fd_pixels' space has 192 features, so its fitting subsets would be singular."""
    from genbench.cli import main
    from genbench.data import load_dataset

    path = tmp_path / "pilot.npy"
    np.save(path, load_dataset("digits-train").data[:718])
    assert main(["power", "--baseline", str(path), "--kind", "blur", "--size", "1", "--sizes", "1000",
                 "--bootstrap", "5", "--draws", "3", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "at least 768 rows" in err and "--baseline" in err


def test_favourable_weight() -> None:
    from genbench.compare.effects import exact_effect, favourable_weight

    assert favourable_weight(">=", exact_effect(-0.4, -0.6, -0.2)) == pytest.approx(0.5)
    assert favourable_weight(">=", exact_effect(-0.3, -0.6, 0.1)) == 0.0  # the interval reaches 0
    assert favourable_weight(">=", exact_effect(-1.0, -1.0, -1.0)) == 1.0  # a class lost, exactly
    assert favourable_weight("<=", exact_effect(4.0, 2.0, 6.0)) == pytest.approx(0.5)
    assert favourable_weight("<=", exact_effect(-1.0, -2.0, 0.0)) == 0.0


def test_power_plans_partial_class_dropping_on_class_share(tmp_path) -> None:
    """One class kept at 30% of its share: class_share, decided by its exact interval, stops it at N = 1,000
    nearly always, while the baseline against itself passes it."""
    import json

    from genbench.cli import main

    out = tmp_path / "plan.json"
    assert main(["power", "--baseline", "digits-train", "--kind", "partial-class", "--size", "1", "--share", "0.3",
                 "--rule", "class_share>=-0.6", "--sizes", "1000", "--draws", "40", "--device", "cpu",
                 "--json", str(out)]) == 0
    p = json.loads(out.read_text())
    det, fa = p["rows"][0]["per_rule"]["class_share>=-0.6"]
    assert det >= 0.95 and fa <= 0.05 and p["effects"]["class_share>=-0.6"]["distinguishable"]


def test_an_unreliable_row_is_never_the_smallest_n() -> None:
    rows = [PlanRow(100, 1.0, 0.0, {}, (1.0, 1.0), 1.0, False), PlanRow(1000, 0.99, 0.01, {}, (0.9, 1.0))]
    assert _plan(rows).smallest_n == 1000
