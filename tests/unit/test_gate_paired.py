"""Paired gate comparisons and significance-tested class coverage on real digits features (CPU, fast).

Features of the shipped digits classifier are computed once per module; every gate decision below runs
genbench.compare.paired.differences + genbench.compare.gate.compare, the CLI's own decision path.
"""
from __future__ import annotations

import numpy as np
import pytest

from genbench.data import load_dataset
from genbench.errors import InputError
from genbench.features.extract import build_extractor
from genbench.compare.gate import FAIL, PASS, check_sample_counts, compare, sample_count_warning
from genbench.numerics import softmax64
from genbench.metrics import functional as fn
from genbench.metrics.functional import modes as fm
from genbench.metrics.base import MetricValue
from genbench.metrics.modes import classifier_confusion
from genbench.compare.paired import EXACT, INDEPENDENT, PAIRED, Side, differences
from genbench.protocols import PROTOCOLS
from genbench.metrics.functional import counts
from genbench.eval.result import EvalResult

PROTO = PROTOCOLS.get("digits-default")
RULES = ("fd", "recall", "classes_covered")


def _features(images: np.ndarray) -> dict[str, np.ndarray]:
    ext = build_extractor("digits-classifier", device="cpu")
    outs = list(ext.run_batches(images[i:i + 512] for i in range(0, len(images), 512)))
    return {"embedding": np.concatenate([o["embedding"] for o in outs]),
            "class_probs": softmax64(np.concatenate([o["logits"] for o in outs]))}


@pytest.fixture(scope="module")
def digits():
    train, test = load_dataset("digits-train"), load_dataset("digits-test")
    return _features(train.data), np.asarray(train.labels), _features(test.data)


def _result(diffs: dict, side: str, n: int = 600) -> EvalResult:
    vals = {k: MetricValue(getattr(d, side)) for k, d in diffs.items()}
    rec = {"protocol": "digits-default", "protocol_version": "1", "n_gen": n, "reference_fingerprint": "ab" * 32}
    return EvalResult(vals, rec, {"n": n}, {"n": 359}, {}, {"fd": False, "recall": True, "classes_covered": True})


def _gate(train, test, cand_rows, base_rows):
    diffs = differences(RULES, Side(train, cand_rows), Side(train, base_rows), Side(test), PROTO.config, reps=100)
    rules = [f"fd<=+{_tol('fd')}", f"recall>=-{_tol('recall')}", "classes_covered>=-0"]  # the classifier's rules
    return compare(_result(diffs, "a"), _result(diffs, "b"), rules, PROTO, diffs=diffs)


def _tol(metric: str) -> float:
    return next(g.tolerance for g in PROTO.gate_rules if g.metric == metric)


def test_one_missing_class_fails_and_a_fresh_real_subset_passes_at_600(digits):
    train, labels, test = digits
    perm = np.random.default_rng(0).permutation(len(labels))
    base, rest = perm[:600], perm[600:]
    fresh = rest[:600]
    missing = rest[labels[rest] != 3][:600]
    assert len(missing) == 600
    ok = _gate(train, test, fresh, base)
    assert ok.status == PASS, ok.table()
    bad = _gate(train, test, missing, base)
    assert bad.status == FAIL, bad.table()
    cov = {o.rule.metric: o for o in bad.outcomes}["classes_covered"]
    assert (cov.baseline, cov.candidate, cov.status, cov.method) == (10, 9, FAIL, EXACT)
    assert "paired" in bad.to_json()["interval"] and bad.fallback_reason is None


def test_paired_interval_is_narrower_than_independent(digits):
    train, _, test = digits
    rng = np.random.default_rng(1)
    a, b = Side(train, rng.integers(0, len(train["embedding"]), 600)), Side(train, rng.integers(0, 1438, 600))
    paired = differences(["fd", "recall"], a, b, Side(test), PROTO.config, reps=100, seed=0)
    indep = differences(["fd", "recall"], a, b, Side(test), PROTO.config, reps=100, seed=0, paired=False)
    for m in ("fd", "recall"):
        assert paired[m].method == PAIRED and indep[m].method == INDEPENDENT
        assert paired[m].diff == indep[m].diff
    assert paired["fd"].hi - paired["fd"].lo < indep["fd"].hi - indep["fd"].lo
    assert paired["fd"].std < indep["fd"].std  # the shared 359-image reference's noise cancels
    # recall's noise is mostly the fake sets' own k-NN radii: pairing removes only the reference's
    # binomial share (std ~0.018 of ~0.045), within the Monte Carlo error of B = 100


def test_count_replicates_equal_materialised_resamples(digits):
    """genbench.metrics.functional.counts (row counts) against the metric code on the materialised resample."""
    train, _, test = digits
    rng = np.random.default_rng(2)
    rows, ref_rows = rng.integers(0, 1438, 300), rng.integers(0, 359, 359)
    c = np.bincount(rows, minlength=1438).astype(float)
    cr = np.bincount(ref_rows, minlength=359).astype(float)
    fake = counts.Resample(counts.Pool.of(train["embedding"]), c)
    real = counts.Resample(counts.Pool.of(test["embedding"]), cr)
    p, r = counts.precision(fake, real, 3), counts.recall(fake, real, 3)
    want = fn.precision_recall(test["embedding"][ref_rows], train["embedding"][rows], 3)
    assert (p, r) == pytest.approx(want, abs=1e-12)
    mu, cov = fake.pool.rows.moments(c)
    want_mu, want_cov = fn.feature_stats(train["embedding"][rows])
    assert np.abs(mu - want_mu).max() < 1e-9 and np.abs(cov - want_cov).max() < 1e-9
    # the sqrt of singular ReLU covariances amplifies rounding
    assert counts.fd(fake, real) == pytest.approx(
        fn.frechet_distance_features(train["embedding"][rows], test["embedding"][ref_rows]), rel=1e-6)


@pytest.mark.parametrize("keep,expect", [(7, 7), (10, 10)])
def test_classes_covered_counts_significant_classes(keep: int, expect: int) -> None:
    full = load_dataset("digits")
    mask = np.asarray(full.labels) < keep
    probs = _features(full.data[mask])["class_probs"]
    res = fn.class_coverage(probs, None, classifier_confusion()[1])
    assert res["classes_covered"] == expect
    assert res["classes_hit_raw"] >= expect  # the literature's count (8 for the 7-class set)


def test_class_hist_g_test_matches_scipy() -> None:
    from scipy.stats import chi2_contingency

    a, b = np.array([30, 12, 0, 7]), np.array([20, 20, 5, 0])
    g, p = fm.g_test_p(a, b)
    stat, pv, _, _ = chi2_contingency(np.stack([a, b]), lambda_="log-likelihood", correction=False)
    assert (g, p) == pytest.approx((stat, pv))


def test_significance_needs_more_than_one_hit() -> None:
    counts = np.array([0, 1, 3, 60])
    sig = fm.significant_counts(counts, np.full(4, 0.006), alpha=0.001)
    assert sig.tolist() == [False, False, False, True]


def test_n_mismatch_is_refused() -> None:
    def res(n: int) -> EvalResult:
        return EvalResult({}, {"protocol": "digits-default", "n_gen": n}, {"n": n}, {})

    assert check_sample_counts(res(1000), res(1000), PROTO) == []
    with pytest.raises(InputError, match="fixes N = 1000"):
        check_sample_counts(res(600), res(1000), PROTO)
    assert check_sample_counts(res(600), res(1000), PROTO, allow=True)
    assert "will not rank" in sample_count_warning(res(600)) and sample_count_warning(res(1000)) is None
