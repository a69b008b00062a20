"""Release gate: rule parsing, pass / fail / inconclusive decisions, default rules, the command."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from genbench.cli import main
from genbench.commands.gate import decide_gate
from genbench.errors import ConfigError, InputError
from genbench.compare.gate import FAIL, INCONCLUSIVE, PASS, Rule, calibrate_tolerances, compare, decide, parse_rule
from genbench.board.leaderboard import Leaderboard
from genbench.metrics.base import MetricValue
from genbench.eval.result import EvalResult


def result(fd: float, recall: float, *, fd_std: float = 0.1, recall_std: float = 0.005, n: int = 1000,
           name: str | None = None, counts: list[int] | None = None) -> EvalResult:
    counts = counts or [n // 10] * 10
    metrics = {"fd": MetricValue(fd, fd_std, (fd - 1.96 * fd_std, fd + 1.96 * fd_std)),
               "recall": MetricValue(recall, recall_std, (recall - 1.96 * recall_std, recall + 1.96 * recall_std)),
               "classes_covered": MetricValue(10.0), "fd_pixels": MetricValue(0.4, 0.03, (0.34, 0.46)),
               "class_share": MetricValue(0.0, None, (-0.3, 0.4), {"counts": counts})}
    record = {"protocol": "digits-default", "protocol_version": "1", "primary": "fd", "n_gen": n, "n_ref": 359,
              "reference_fingerprint": "12" * 32, "seed": 0, "unverified": False}
    return EvalResult(metrics, record, {"n": n}, {"n": 359, "fingerprint": "12" * 32}, {},
                      {"fd": False, "recall": True, "classes_covered": True, "fd_pixels": False,
                       "class_share": True}, name)


@pytest.mark.parametrize("text,expected", [
    ("fd<=+2.0", Rule("fd", "<=", 2.0)), ("recall>=-0.02", Rule("recall", ">=", -0.02)),
    (" fid_inception <= 0.5 ", Rule("fid_inception", "<=", 0.5)), ("kid>=-1e-3", Rule("kid", ">=", -0.001)),
])
def test_parse_rule(text: str, expected: Rule) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize("text", ["fd", "fd<2", "fd<=", "<=2", "fd=>+2", "fd<=abc", "fd<=+2.0x", "", "fd<=nan"])
def test_parse_rule_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="--rule"):
        parse_rule(text)


def test_identical_candidate_passes() -> None:
    base = result(10.0, 0.6)
    report, code = decide_gate(result(10.0, 0.6), base, [], None, strict=True)
    assert report.status == PASS and code == 0
    assert [str(o.rule) for o in report.outcomes] == ["fd<=+19", "recall>=-0.15", "classes_covered>=-0",
                                                        "fd_pixels<=+0.28", "class_share>=-0.6"]


def test_clearly_worse_fails() -> None:
    report, code = decide_gate(result(20.0, 0.6), result(10.0, 0.6), [parse_rule("fd<=+2.0")], None, False)
    assert report.status == FAIL and code == 1
    o = report.outcomes[0]
    assert o.diff == pytest.approx(10.0)
    assert o.lo == pytest.approx(10.0 - 1.96 * (0.02 ** 0.5), rel=1e-3)
    assert "FAIL" in report.table(only=(FAIL,))


def test_table_columns_line_up_with_long_rule_names() -> None:
    from genbench.compare.gate import GateReport, RuleOutcome

    outcomes = [RuleOutcome(Rule(m, "<=", 2.0), 10.0, 20.0, 10.0, 9.0, 11.0, FAIL, True)
                for m in ("fd", "fd_a_rather_long_space_name")]
    header, *rows = GateReport(outcomes, "cand", "base", "p@1").table().splitlines()
    end = header.index("baseline") + len("baseline")  # the baseline column is right-aligned
    assert [r[:end].rstrip().endswith("10") and r[end] == " " for r in rows] == [True, True]


def test_recall_drop_fails_and_improvement_passes() -> None:
    report = compare(result(10.0, 0.40), result(10.0, 0.60), ["recall>=-0.02"])
    assert report.status == FAIL
    assert compare(result(5.0, 0.7), result(10.0, 0.6)).status == PASS


def test_straddling_is_inconclusive_and_strict_fails() -> None:
    cand, base = result(12.0, 0.6, fd_std=1.0), result(10.0, 0.6, fd_std=1.0)
    report, code = decide_gate(cand, base, [parse_rule("fd<=+2.0")], None, strict=False)
    assert report.status == INCONCLUSIVE and code == 0
    assert any("inconclusive" in w for w in report.warnings)
    assert decide_gate(cand, base, [parse_rule("fd<=+2.0")], None, strict=True)[1] == 1


def test_interval_from_ci_when_no_std() -> None:
    rule = parse_rule("fd<=+1.0")
    base, cand = MetricValue(10.0, None, (9.0, 11.0)), MetricValue(10.5, None, (10.0, 11.0))
    o = decide(rule, base, cand)
    assert (o.lo, o.hi) == pytest.approx((0.5 - (1 + 0.25) ** 0.5, 0.5 + (1 + 0.25) ** 0.5))
    assert o.status == INCONCLUSIVE
    bare = decide(rule, MetricValue(10.0), MetricValue(12.0))
    assert bare.status == FAIL and not bare.has_interval


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="different protocols"):
        compare(result(1.0, 0.5, n=500), result(1.0, 0.5))
    with pytest.raises(InputError, match="'precision'"):
        compare(result(1.0, 0.5), result(1.0, 0.5), ["precision>=-0.1"])


def test_calibrate_tolerances() -> None:
    runs = [result(v, r) for v, r in ((1.0, 0.60), (1.5, 0.62), (1.2, 0.59))]
    tol = calibrate_tolerances(runs, ["fd", "recall"])
    assert tol == pytest.approx({"fd": 0.5, "recall": 0.03})
    assert calibrate_tolerances(runs, ["fd"], method="2sd")["fd"] > 0
    with pytest.raises(ConfigError):
        calibrate_tolerances(runs[:1], ["fd"])


def test_gate_command_refuses_candidate_values_from_a_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A candidate result file without its features file is refused: its values would come from the JSON."""
    base, worse = tmp_path / "base.json", tmp_path / "worse.json"
    result(10.0, 0.6).save(base)
    result(40.0, 0.6).save(worse)
    assert main(["gate", "--candidate", str(worse), "--baseline", str(base), "--rule", "fd<=+2.0"]) == 2
    assert "never taken from a JSON" in capsys.readouterr().err
    assert main(["gate", "--candidate", str(worse), "--baseline", str(base), "--rule", "fd<2"]) == 2
    board = tmp_path / "digits.jsonl"
    Leaderboard.load(board).add_result(result(10.0, 0.6), "ddpm")
    assert main(["gate", "--candidate", str(worse), "--baseline", "nope", "--board", str(board)]) == 2
    bad = json.loads(base.read_text())
    bad["metrics"]["fd"]["value"] = True
    base.write_text(json.dumps(bad))
    assert main(["gate", "--candidate", str(worse), "--baseline", str(base)]) == 2
    assert "field metrics.fd.value" in capsys.readouterr().err


def test_class_share_falls_back_to_recorded_counts() -> None:
    """Without features, class_share is decided by the same exact test on the results' recorded counts."""
    base = result(20.0, 0.8)
    kept = [30] + [108] * 9  # class 0 kept at 30% of its share, the others filling up to ~1,000
    cand = result(20.0, 0.8, counts=kept)
    report = compare(cand, base, ["class_share>=-0.6"])
    (o,) = report.outcomes
    assert o.status == FAIL or (o.status == INCONCLUSIVE and o.past_tolerance)
    assert o.diff == pytest.approx(0.3 * 1000 / sum(kept) - 1.0) and "class 0" in o.note
    same = compare(result(20.0, 0.8), base, ["class_share>=-0.6"])
    assert same.status == PASS and same.outcomes[0].diff == 0.0


def test_class_share_without_counts_is_refused() -> None:
    base, cand = result(20.0, 0.8), result(20.0, 0.8)
    cand.metrics["class_share"] = MetricValue(0.0)
    with pytest.raises(InputError, match="class counts"):
        compare(cand, base, ["class_share>=-0.6"])
