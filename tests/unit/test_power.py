"""The sample-size planner (genbench.compare.power): its scaling law on synthetic features with a known
variance, the normal decision model, and the target search."""
from __future__ import annotations

import math

import numpy as np
import pytest

from genbench.compare.gate import Rule
from genbench.compare.paired import Side
from genbench.compare.laws import Pilot, VarianceLaw, fit_law, fit_laws, stop_probability
from genbench.compare.power import PlanOptions, PlanRow, Target, plan, smallest_n
from genbench.metrics.base import MetricConfig
from genbench.metrics.functional.fd import frechet_distance

D, SHIFT, M = 4, 1.0, 400  # feature dim, mean shift of the candidate along e1, reference rows


def _gauss(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    x = rng.standard_normal((n, D))  # [n, D] float64, covariance I
    x[:, 0] += shift
    return x


def _fd(x: np.ndarray, r: np.ndarray) -> float:
    return frechet_distance(x.mean(0), np.cov(x, rowvar=False), r.mean(0), np.cov(r, rowvar=False))


def test_fit_law_recovers_a_and_c() -> None:
    sizes = [100, 200, 400, 800]
    law = fit_law(sizes, [3.0 / n + 0.01 for n in sizes], delta=2.0)
    assert law.a == pytest.approx(3.0) and law.c == pytest.approx(0.01) and law.std(300) == pytest.approx(
        math.sqrt(0.02))
    assert fit_law(sizes, [3.0 / n for n in sizes], 0.0).c == pytest.approx(0.0, abs=1e-12)


def test_scaling_law_on_gaussians_with_known_variance() -> None:
    """fd(A, R) − fd(B, R) with A shifted by δ along e1: to first order d = δ² + 2δ(ā − r̄)₁, so
    var(d) = 4δ²(1/N + 1/M): a = 4δ², c = 4δ²/M. The law fitted on a 400-row pilot's bootstrap must
    give these, and predict the variance of fresh draws at N = 1,600 (4x the pilot)."""
    rng = np.random.default_rng(0)
    pilot = Pilot(Side({"embedding": _gauss(rng, 400, SHIFT)}), Side({"embedding": _gauss(rng, 400)}),
                  Side({"embedding": _gauss(rng, 400)}), Side({"embedding": _gauss(rng, M)}))
    law = fit_laws(Rule("fd", "<=", 0.5), pilot, MetricConfig(), reps=300, seed=1, draws=200, context={},
                   params={})
    cand, boot = law["candidate"].draws, law["candidate"].interval
    assert cand.a == pytest.approx(4 * SHIFT ** 2, rel=0.3)
    # the bootstrap's spread has the same first-order term plus the resampling's own second-order excess
    assert 0.8 * 4 * SHIFT ** 2 < boot.a < 1.6 * 4 * SHIFT ** 2
    assert cand.c == pytest.approx(0.0, abs=0.01)  # one reference for all draws: it adds no spread to d
    assert boot.std(10 ** 9) == pytest.approx(math.sqrt(4 * SHIFT ** 2 / M), rel=0.5)  # the bootstrap resamples it
    fresh = []
    r = pilot.reference.arrays["embedding"]
    for _ in range(300):
        fresh.append(_fd(_gauss(rng, 1600, SHIFT), r) - _fd(_gauss(rng, 1600), r))
    assert cand.std(1600) == pytest.approx(float(np.std(fresh, ddof=1)), rel=0.25)
    assert law["null"].draws.delta == 0.0 and law["null"].draws.a < 0.5 * cand.a  # identical: 2nd-order noise


def test_stop_probability() -> None:
    rule = Rule("fd", "<=", 10.0)
    assert stop_probability(rule, 8.0, 1.0, 2.0) == pytest.approx(0.5)
    assert stop_probability(rule, 0.0, 1.0, 2.0) < 1e-6 and stop_probability(rule, 20.0, 1.0, 2.0) > 1 - 1e-6
    assert stop_probability(rule, 7.0, 1.0, 2.0) == pytest.approx(0.158655, abs=1e-5)  # 1 − Φ(1)
    up = Rule("recall", ">=", -0.1)
    assert stop_probability(up, -0.06, 0.02, 0.04) == pytest.approx(0.5)
    assert stop_probability(rule, 9.0, 0.0, 2.0) == 1.0 and stop_probability(rule, 7.0, 0.0, 2.0) == 0.0


def test_smallest_n() -> None:
    rows = [PlanRow(250, 0.5, 0.01), PlanRow(500, 0.96, 0.07), PlanRow(1000, 0.97, 0.04), PlanRow(2000, 1.0, 0.0)]
    assert smallest_n(rows, Target()) == 1000 and smallest_n(rows, Target(0.99, 0.05)) == 2000
    assert smallest_n(rows[:2], Target()) is None


def test_plan_rates_move_with_n() -> None:
    """More samples: false alarms of an identical candidate fall (at small N the strict gate stops every
    candidate, its interval being wider than the tolerance), while a shift beyond the tolerance stays caught."""
    rng = np.random.default_rng(2)
    pilot = Pilot(Side({"embedding": _gauss(rng, 400, 0.5)}), Side({"embedding": _gauss(rng, 400)}),
                  Side({"embedding": _gauss(rng, 400)}), Side({"embedding": _gauss(rng, M)}))
    rule = Rule("fd", "<=", 0.15)
    p = plan({rule: pilot}, MetricConfig(), PlanOptions(sizes=(100, 400, 1600), reps=200))
    det, fa = [r.detection for r in p.rows], [r.false_alarm for r in p.rows]
    assert min(det) > 0.95 and fa[0] > 0.5 > fa[1] > fa[2] and fa[2] < 0.05
    assert p.smallest_n == 1600
    assert p.smallest_n == next((r.n for r in p.rows if r.detection >= 0.95 and r.false_alarm <= 0.05), None)
    law = p.laws[str(rule)]["candidate"].draws
    assert VarianceLaw(law.a, law.c, law.delta).std(400) > VarianceLaw(law.a, law.c, law.delta).std(1600)


# ---- regressions of known kind and size ---------------------------------------------------------
def test_regressions() -> None:
    from genbench.compare.regressions import Regression, blur, kept_rows, noise, shift
    from genbench.errors import ConfigError

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 3, 8, 8), dtype=np.uint8)
    assert np.array_equal(blur(x, 0), x) and blur(x, 1).dtype == np.uint8
    assert blur(x, 3).astype(float).std() < blur(x, 1).astype(float).std() < x.astype(float).std()
    assert np.array_equal(noise(x, 25.0, seed=1), noise(x, 25.0, seed=1))
    assert not np.array_equal(noise(x, 25.0, seed=1), noise(x, 25.0, seed=2))
    probs = np.eye(10)[np.arange(100) % 10]  # [100, 10], each class 10 times
    rows = kept_rows(probs, 2, seed=0)
    assert len(rows) == 80 and len(set(probs[rows].argmax(1))) == 8
    base = rng.standard_normal((500, 4))
    moved = shift(base, 9.0, base)
    assert np.sum((moved.mean(0) - base.mean(0)) ** 2) == pytest.approx(9.0)
    assert _fd(moved, base) == pytest.approx(9.0, rel=1e-6)
    for kind, size in (("bogus", 1.0), ("blur", 1.5), ("noise", -1.0)):
        with pytest.raises(ConfigError):
            Regression(kind, size)


# ---- the command --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, needle", [
    (["--baseline", "digits-train"], "either --candidate"),
    (["--baseline", "digits-train", "--kind", "blur"], "give its --size"),
    (["--baseline", "digits-train", "--kind", "bogus", "--size", "1"], "unknown regression"),
    (["--baseline", "digits-train", "--kind", "blur", "--size", "1", "--sizes", "1k"], "--sizes"),
    (["--baseline", "digits-train", "--kind", "blur", "--size", "1", "--detect", "2"], "--detect"),
    (["--baseline", "no/such/dir", "--kind", "blur", "--size", "1"], "no/such/dir"),
    (["--baseline", "digits-train", "--kind", "blur", "--size", "1", "--protocol", "nope"], "nope"),
])
def test_power_bad_input_exits_2_with_one_line(argv, needle, capsys) -> None:
    from genbench.cli import main

    assert main(["power", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_power_command_plans_an_fd_shift(tmp_path, capsys) -> None:
    import json

    from genbench.cli import main

    out = tmp_path / "plan.json"
    assert main(["power", "--baseline", "digits-train", "--kind", "fd-shift", "--size", "40", "--rule", "fd<=+15",
                 "--sizes", "250,4000", "--bootstrap", "20", "--draws", "5", "--device", "cpu",
                 "--json", str(out)]) == 0
    plan_json = json.loads(out.read_text())
    rows = {r["n"]: r for r in plan_json["rows"]}
    assert rows[4000]["detection"] > 0.95 and rows[4000]["false_alarm"] < 0.05 < rows[250]["false_alarm"]
    assert plan_json["smallest_n"] == 4000
    # against digits-test the shift adds 40 + 2·√40·axis·(mean(train) − mean(test)): near 40, not exactly
    assert 25 < plan_json["laws"]["fd<=+15"]["candidate"]["draws"]["delta"] < 80
    assert "smallest N with detection >= 95% at false alarms <= 5%: N = 4,000" in capsys.readouterr().out


def test_separation_probability_and_n() -> None:
    from genbench.compare.laws import RuleLaw, n_to_separate, separation_probability

    law = RuleLaw(VarianceLaw(100.0, 0.0, 0.0), VarianceLaw(100.0, 0.0, 0.0))  # sd = s = 10/√N
    assert separation_probability(0.0, law, 100, 1.959963984540054) == pytest.approx(0.05)
    assert separation_probability(1.959963984540054, law, 100, 1.959963984540054) == pytest.approx(0.5, abs=0.01)
    # power 0.8 at gap 1 needs 10/√N <= 1/(1.96 + 0.84): N >= 784, so 1,000 on the 1-2-5 grid
    assert n_to_separate(1.0, law, 1.959963984540054) == 1000


def test_power_plans_a_missing_class_across_feature_spaces(tmp_path) -> None:
    """digits-default gates the classifier's space and the pixels' space; a missing class is found with the
    classifier's probabilities and dropped from both spaces' pilots (the same images), so the plan covers
    every rule and decides them jointly."""
    import json

    from genbench.cli import main

    out = tmp_path / "plan.json"
    assert main(["power", "--baseline", "digits-train", "--kind", "missing-class", "--size", "1", "--sizes", "250",
                 "--bootstrap", "10", "--draws", "4", "--device", "cpu", "--json", str(out)]) == 0
    p = json.loads(out.read_text())
    assert set(p["rows"][0]["per_rule"]) == {"fd<=+19", "recall>=-0.15", "classes_covered>=-0", "fd_pixels<=+0.28",
                                               "class_share>=-0.6"}
    assert p["correlations"]["null"]["rules"] == ["fd<=+19", "recall>=-0.15", "fd_pixels<=+0.28"]
    fd_fd_pixels = p["correlations"]["null"]["matrix"][0][2]
    assert 0.0 < fd_fd_pixels < 1.0  # one set of images feeds both FDs


def test_an_fd_shift_moves_the_primary_space_only(tmp_path) -> None:
    """digits-default's primary fd lives in the classifier's space: a shift of 40 is caught there, while the
    pixels space sees the baseline itself (fd_pixels' detection is its false-alarm rate)."""
    import json

    from genbench.cli import main

    out = tmp_path / "plan.json"
    assert main(["power", "--baseline", "digits-train", "--kind", "fd-shift", "--size", "40", "--sizes", "4000",
                 "--bootstrap", "10", "--draws", "4", "--device", "cpu", "--json", str(out)]) == 0
    p = json.loads(out.read_text())
    assert p["laws"]["fd_pixels<=+0.28"]["candidate"]["draws"]["delta"] == pytest.approx(0.0, abs=0.05)
    assert p["laws"]["fd<=+19"]["candidate"]["draws"]["delta"] > 25
    per = p["rows"][0]["per_rule"]
    assert per["fd<=+19"][0] > 0.95 and per["fd_pixels<=+0.28"][0] < 0.2
