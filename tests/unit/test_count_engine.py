"""The row-count replicate engine (genbench.metrics.base.Metric.replicates / count_batch): KD/KID from each
subset's kernels, density/coverage from counts, IS and copy_rate from per-row quantities, interval domains
and the bounded-work refusal."""
from __future__ import annotations

import numpy as np
import pytest

from genbench.compare import paired
from genbench.metrics import METRICS, MetricConfig, MetricInputs, compute_with_ci, load_all
from genbench.metrics.bootstrap import draw_indices, summarise
from genbench.metrics.functional import kd_counts
from genbench.metrics.functional.counts import Pool, Resample
from genbench.metrics.values import MetricValue

load_all()


def _sets(seed: int = 0, nf: int = 80, nr: int = 60, d: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((nf, d)).astype(np.float32),
            (rng.standard_normal((nr, d)) + 0.2).astype(np.float32))


def _counts(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)


def _kd(subsets: int = 12, size: int = 40, precision: str = "float64"):
    return METRICS.get("kd")(METRICS.get("kd").Params(subsets=subsets, subset_size=size, precision=precision))


# precision "float32" (kid's default): the point sums each subset's m² float32 kernel values (of order 1 here)
# in float32 as torch-fidelity does, the replicates sum the same float32 kernels in float64. They agree to the
# float32 summation error, about log2(m²)·2⁻²⁴ ≈ 1e-6 of the kernels' mean, not bit for bit.
F32_SUM_ABS = 1e-6


def test_kd_identity_counts_give_the_point_value():
    fake, real = _sets()
    m = _kd()
    point = m.point(MetricInputs({"fake.embedding": fake, "real.embedding": real}), MetricConfig(seed=3))["kd"].value
    got = m.count_values(("kd",), Resample(Pool.of(fake), np.ones(80)), Resample(Pool.of(real), np.ones(60)),
                         MetricConfig(seed=3))["kd"]
    assert got == pytest.approx(point, rel=1e-12, abs=1e-15)


def test_kd_float32_identity_counts_give_the_point_value_to_float32_rounding():
    fake, real = _sets()
    m, cfg = _kd(precision="float32"), MetricConfig(seed=3)
    point = m.point(MetricInputs({"fake.embedding": fake, "real.embedding": real}), cfg)["kd"]
    got = m.count_values(("kd",), Resample(Pool.of(fake), np.ones(80)), Resample(Pool.of(real), np.ones(60)), cfg)
    assert point.details["precision"] == "float32"
    assert got["kd"] == pytest.approx(point.value, abs=F32_SUM_ABS)
    assert point.value != _kd().point(MetricInputs({"fake.embedding": fake, "real.embedding": real}), cfg)["kd"].value


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("size", [2, 5, 40])
def test_kd_counts_equal_the_materialised_subsets(size, precision):
    """Tiny subsets leave some subsets with fewer than 2 drawn rows: both forms leave those out alike. float32:
    the materialised form's kernels come from repeated rows (other BLAS shapes), which may round a product
    differently; both sum in float64, so they agree to float32 rounding of the kernels (F32_SUM_ABS)."""
    fake, real = _sets(1, nf=12, nr=9) if size < 40 else _sets(1)
    m, rng, cfg = _kd(subsets=30, size=size, precision=precision), np.random.default_rng(4), MetricConfig(seed=1)
    fp, rp = Pool.of(fake), Pool.of(real)
    tol = dict(rel=1e-10, abs=1e-13) if precision == "float64" else dict(abs=F32_SUM_ABS)
    for _ in range(5):
        f, r = Resample(fp, _counts(rng, len(fake))), Resample(rp, _counts(rng, len(real)))
        fast, slow = m.count_values(("kd",), f, r, cfg)["kd"], m.materialised_values(("kd",), f, r, cfg)["kd"]
        assert fast == pytest.approx(slow, **tol)


def test_float32_replicate_kernels_are_the_points():
    """The replicates' float32 kernels are the point's own (kd_counts.poly_kernel, torch-fidelity's expression),
    only upcast: with every count 1 a subset's weighted MMD² is the float64 sum of the point's float32 kernels."""
    fake, real = _sets(4)
    x, y = fake[:40], real[:40]
    kxx, kyy, kxy = (kd_counts.poly_kernel(a, b).astype(np.float64) for a, b in ((x, x), (y, y), (x, y)))
    want = ((kxx.sum() - np.trace(kxx)) / (40 * 39) + (kyy.sum() - np.trace(kyy)) / (40 * 39)
            - 2.0 * kxy.sum() / 1600)
    got = kd_counts.weighted_mmd2(x, y, np.ones((1, 40)), np.ones((1, 40)))[0]
    assert kd_counts.poly_kernel(x, y).dtype == np.float32 and got == pytest.approx(want, rel=1e-12)
    ref = (np.matmul(x, y.T) * (1.0 / x.shape[1]) + 1) ** 3  # torch_fidelity/metric_kid.py kernel_poly
    assert np.array_equal(kd_counts.poly_kernel(x, y), ref)


def test_kd_subsets_are_the_points_own():
    """The replicate engine draws exactly the point's subsets (functional.kernel.kernel_inception_distance)."""
    from genbench.metrics.functional import kernel

    fake, real = _sets(2)
    rows = kd_counts.subset_rows(80, 60, 7, 30, 5)
    direct = np.mean([kernel.mmd2_unbiased_poly(fake[i].astype(np.float64), real[j].astype(np.float64))
                      for i, j in rows])
    assert kernel.kernel_inception_distance(fake, real, 7, 30, 5)[0] == direct


def test_kid_interval_comes_from_counts_without_recomputing_the_point(monkeypatch):
    fake, real = _sets(3)
    m = METRICS.get("kid")(METRICS.get("kid").Params(subsets=10, subset_size=30))
    inputs = MetricInputs({"fake.embedding": fake, "real.embedding": real}, {"extractor": "inception-v3-tf"})
    calls = []
    original = type(m).point
    monkeypatch.setattr(type(m), "point", lambda self, i, c: calls.append(1) or original(self, i, c))
    v = compute_with_ci(m, inputs, MetricConfig(bootstrap=50, seed=2))["kid"]
    assert calls == [1]  # the point once, no replicate recomputes it
    assert v.details["bootstrap"] == 50 and v.ci95[0] < v.value < v.ci95[1]


def test_paired_kd_differences_are_the_materialised_definition():
    fake_a, real = _sets(5)
    fake_b = _sets(6)[0] + 0.3
    m, cfg = _kd(8, 30), MetricConfig(seed=0)
    fast = paired._Fast(m, cfg)
    a, b, ref = (paired.Side({"embedding": x}) for x in (fake_a, fake_b, real))
    rng = np.random.default_rng(9)
    draws = [(_counts(rng, 80), _counts(rng, 80), c, c) for c in (_counts(rng, 60) for _ in range(4))]
    got = fast.differences(("kd",), a, b, ref, draws)[:, 0]
    want = [m.materialised_values(("kd",), Resample(fast.pool(a), ca), Resample(fast.pool(ref), cr), cfg)["kd"]
            - m.materialised_values(("kd",), Resample(fast.pool(b), cb), Resample(fast.pool(ref), cr), cfg)["kd"]
            for ca, cb, cr, _ in draws]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("mode", ["tf", "torch-fidelity", "adm"])
def test_classifier_score_replicates_equal_the_materialised_resample(mode):
    cls = METRICS.get("classifier_score")
    m = cls(cls.Params(mode=mode, splits=4, split_size=30))
    logits = np.random.default_rng(0).standard_normal((100, 10)) * 3
    inputs = MetricInputs({"fake.logits": logits})
    rng = np.random.default_rng(1)
    draws = [draw_indices(rng, {"fake": 100}, False) for _ in range(5)]
    fast = [d["classifier_score"] for d in m.replicates(inputs, draws, MetricConfig())]
    slow = [d["classifier_score"] for d in m.materialised_replicates(inputs, draws, MetricConfig())]
    np.testing.assert_allclose(fast, slow, rtol=1e-12)
    assert len(set(fast)) == 5  # the draws differ, and so do their values


def test_copy_rate_replicates_are_bit_identical():
    m = METRICS.get("copying")()
    fake, train = _sets(7)
    inputs = MetricInputs({"fake.embedding": np.concatenate([fake, train[:10]]), "train.embedding": train})
    rng = np.random.default_rng(2)
    draws = [draw_indices(rng, {"fake": 90}, False) for _ in range(5)]
    assert m.replicates(inputs, draws, MetricConfig()) == m.materialised_replicates(inputs, draws, MetricConfig())


def test_intervals_stay_inside_the_domain():
    point = {"coverage": MetricValue(0.99), "kd": MetricValue(0.001)}
    reps = [{"coverage": c, "kd": k} for c, k in zip(np.linspace(0.90, 0.95, 50), np.linspace(-0.01, 0.0, 50))]
    out = summarise(point, reps, 50, {"fake": 10}, {"coverage": (0.0, 1.0)})
    lo, hi = out["coverage"].ci95
    assert hi == 1.0 and 0.0 <= lo <= 1.0 and out["coverage"].details["uncut_ci"][1] > 1.0
    assert out["kd"].ci95[0] < out["kd"].ci95[1] and "uncut_ci" not in out["kd"].details  # no domain: as is


def test_every_domain_names_an_output_and_a_coverage_interval_never_passes_one():
    for name in METRICS.names():
        cls = METRICS.get(name)
        assert set(cls.domains) <= set(cls.outputs), name
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4))
    inputs = MetricInputs({"fake.embedding": x + 0.01 * rng.standard_normal(x.shape), "real.embedding": x})
    v = compute_with_ci(METRICS.get("dc")(), inputs, MetricConfig(bootstrap=100))
    assert v["coverage"].value > 0.95 and v["coverage"].ci95[1] <= 1.0


def test_pools_over_the_count_limit_give_no_interval_and_say_why(monkeypatch):
    cls = METRICS.get("pr")
    monkeypatch.setattr(cls, "count_pool_limit", 50)
    fake, real = _sets(8)
    v = compute_with_ci(cls(), MetricInputs({"fake.embedding": fake, "real.embedding": real}),
                        MetricConfig(bootstrap=20))
    assert v["precision"].ci95 is None and "P <= 50" in v["precision"].details["ci_skipped"]
