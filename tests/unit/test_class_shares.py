"""class_share: the exact simultaneous interval of the worst-kept class's share ratio (issue #28, point 1)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from genbench.compare.paired import DIRECT, Side, differences
from genbench.errors import ConfigError
from genbench.metrics.base import MetricConfig, MetricInputs
from genbench.metrics.functional.class_shares import class_counts, share_change
from genbench.metrics.modes import Modes


def _oracle(a: np.ndarray, b: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """min over classes of scipy's exact binomial interval of a_k | a_k + b_k, mapped to the share ratio."""
    na, nb, seen = a.sum(), b.sum(), np.flatnonzero(a + b > 0)
    los, his = [], []
    for k in seen:
        ci = binomtest(int(a[k]), int(a[k] + b[k])).proportion_ci(1 - alpha / len(seen), "exact")
        ratio = (lambda p: np.inf if p >= 1 else p * nb / ((1 - p) * na))
        los.append(ratio(ci.low))
        his.append(ratio(ci.high))
    return min(los) - 1, min(his) - 1


@pytest.mark.parametrize("a,b", [([100] * 10, [100] * 10), ([30] + [108] * 9, [100] * 10),
                                 ([0, 50, 60, 7], [3, 40, 0, 9]), ([5, 0, 9], [5, 0, 2])])
def test_interval_matches_scipy_exact_binomial(a: list[int], b: list[int]) -> None:
    got = share_change(np.array(a), np.array(b))
    lo, hi = _oracle(np.array(a, float), np.array(b, float))
    assert got.lo == pytest.approx(lo, rel=1e-9, abs=1e-12) and got.hi == pytest.approx(hi, rel=1e-9)
    assert got.lo <= got.value <= got.hi


def test_worst_class_point_and_classes_seen() -> None:
    c = share_change(np.array([30.0] + [108.0] * 9 + [0.0]), np.array([100.0] * 10 + [0.0]))
    assert c.worst == 0 and c.classes == 10 and c.value == pytest.approx(0.3 * 1000 / 1002 - 1)
    assert c.share_a == pytest.approx(30 / 1002) and c.share_b == pytest.approx(0.1)
    gone = share_change(np.array([0.0, 500.0, 500.0]), np.array([300.0, 300.0, 400.0]))
    assert gone.value == -1.0 and gone.lo == -1.0 and gone.hi < -0.9


def test_operating_characteristics_at_n_1000() -> None:
    """Simulated multinomial draws, 10 equal classes, N = 1,000 each: an unchanged set's lower bound rarely
    crosses -0.6 (the strict gate stops); a class kept at 30% of its share always takes the lower bound
    past it, and mostly the point too (then even --lenient stops)."""
    rng = np.random.default_rng(7)
    u = np.full(10, 0.1)
    null = [share_change(rng.multinomial(1000, u), rng.multinomial(1000, u)).lo < -0.6 for _ in range(1500)]
    assert np.mean(null) < 0.01
    for k in range(10):
        alt = u.copy()
        alt[k] *= 0.3
        alt /= alt.sum()
        c = [share_change(rng.multinomial(1000, alt), rng.multinomial(1000, u)) for _ in range(100)]
        assert all(x.lo < -0.6 for x in c) and np.mean([x.value < -0.6 for x in c]) > 0.8


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ConfigError, match="one length"):
        share_change(np.ones(3), np.ones(4))
    with pytest.raises(ConfigError, match="no samples"):
        share_change(np.zeros(3), np.ones(3))
    with pytest.raises(ConfigError, match=r"\[N, K >= 2\]"):
        class_counts(np.ones(5))


def _probs(counts: list[int]) -> np.ndarray:
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.eye(len(counts))[labels] * 0.9 + 0.01  # [N, K]


def test_modes_reports_class_share_against_the_reference() -> None:
    out = Modes().point(MetricInputs({"fake.class_probs": _probs([30] + [108] * 9),
                                      "real.class_probs": _probs([36] * 10)}), MetricConfig())
    v = out["class_share"]
    assert v.details["worst_class"] == 0 and v.details["against"] == "reference"
    assert v.ci95[0] <= v.value <= v.ci95[1] and v.details["counts"] == [30] + [108] * 9


def test_paired_comparison_uses_the_direct_test() -> None:
    """The gate's difference of class_share is the direct test of candidate vs baseline, not m(A) − m(B)."""
    cand, base, ref = _probs([30] + [108] * 9), _probs([100] * 10), _probs([36] * 10)
    d = differences(["class_share", "classes_covered"], Side({"class_probs": cand}), Side({"class_probs": base}),
                    Side({"class_probs": ref}), MetricConfig(), reps=10)
    want = share_change(class_counts(cand), class_counts(base))
    assert d["class_share"].method == DIRECT and (d["class_share"].diff, d["class_share"].lo) == (want.value, want.lo)
    assert d["class_share"].b == pytest.approx(0.1) and "class 0" in d["class_share"].note
    assert d["classes_covered"].diff == 0.0
