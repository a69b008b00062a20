"""Rules decided together (genbench.compare.joint, used by genbench.compare.power.plan): the correlation of
the rules' pilot draws, and P(all pass) against the bivariate normal's exact CDF."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from genbench.compare.gate import Rule
from genbench.compare.joint import all_pass, correlation, normals
from genbench.compare.paired import Side
from genbench.compare.laws import Pilot
from genbench.compare.power import PlanOptions, plan
from genbench.metrics.base import MetricConfig


def test_correlation_recovers_a_known_one_pooled_over_sizes() -> None:
    rng = np.random.default_rng(0)
    c = np.array([[1.0, 0.7, -0.3], [0.7, 1.0, 0.0], [-0.3, 0.0, 1.0]])
    root = np.linalg.cholesky(c)
    sizes = []
    for scale in (4.0, 2.0, 1.0):  # the spread shrinks with N; the correlation does not
        u = rng.standard_normal((3000, 3)) @ root.T * scale + 5.0  # [D, R] with a mean to remove
        sizes.append(u)
    draws = [[s[:, r] for s in sizes] for r in range(3)]  # draws[rule][size] -> [D]
    assert np.allclose(correlation(draws), c, atol=0.04)
    constant = [[np.full(10, 2.0)] * 2, [np.arange(10.0), np.arange(10.0) ** 2]]
    assert np.array_equal(correlation(constant), np.eye(2))  # a rule whose draws never move


@pytest.mark.parametrize("rho", [0.0, 0.6, -0.5, 0.95])
def test_all_pass_is_the_bivariate_normal_cdf(rho: float) -> None:
    slack, sd = np.array([0.3, 1.0]), np.array([1.0, 2.0])
    sign = np.array([1.0, -1.0])  # rule 2 is `>=`: passes when −d·sd <= slack, i.e. u₂ >= −slack/sd
    corr = np.array([[1.0, rho], [rho, 1.0]])
    want = multivariate_normal(mean=[0, 0], cov=[[1, -rho], [-rho, 1]]).cdf(slack / sd)
    assert all_pass(slack, sign, sd, corr, normals(2, seed=3, size=200_000)) == pytest.approx(want, abs=0.004)
    if rho == 0.0:
        assert want == pytest.approx(norm.cdf(0.3) * norm.cdf(0.5), abs=1e-6)


def test_all_pass_of_zero_spread_is_the_deterministic_decision() -> None:
    z = normals(2, seed=0, size=1000)
    assert all_pass(np.array([0.0, 1.0]), np.ones(2), np.zeros(2), np.eye(2), z) == 1.0
    assert all_pass(np.array([-0.1, 1.0]), np.ones(2), np.zeros(2), np.eye(2), z) == 0.0


def test_plan_decides_rules_on_one_set_jointly() -> None:
    """Two rules on the same FD, one tighter: the gate stops exactly when the tighter rule does, so the joint
    false-alarm rate is the tighter rule's, below what independence would give."""
    rng = np.random.default_rng(5)
    g = lambda n, s=0.0: {"embedding": rng.standard_normal((n, 4)) + np.array([s, 0, 0, 0])}  # noqa: E731
    pilot = Pilot(Side(g(400, 0.5)), Side(g(400)), Side(g(400)), Side(g(400)))
    tight, loose = Rule("fd", "<=", 0.15), Rule("fd", "<=", 0.16)
    p = plan({tight: pilot, loose: pilot}, MetricConfig(), PlanOptions(sizes=(400,), reps=100, draws=30))
    row = p.rows[0]
    per = row.per_rule
    indep = 1 - (1 - per[str(tight)][1]) * (1 - per[str(loose)][1])
    assert p.correlations["null"]["matrix"][0][1] == pytest.approx(1.0)
    assert row.false_alarm == pytest.approx(max(f for _, f in per.values()), abs=0.01)
    assert row.false_alarm < indep - 0.05
    again = plan({tight: pilot, loose: pilot}, MetricConfig(), PlanOptions(sizes=(400,), reps=100, draws=30))
    assert again.rows == p.rows  # deterministic: fixed normal draws
