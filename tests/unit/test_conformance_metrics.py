"""Conformance of every registered metric, parametrised over METRICS.names(): a new metric file is
discovered by genbench.metrics._all and tested here the moment it exists. Also the registry's name
check, module discovery, protocol params and the bootstrap wrapper's contract."""
from __future__ import annotations

import ast
import dataclasses
import inspect
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from genbench.errors import ConfigError
from genbench.metrics import METRICS, Metric, MetricConfig, MetricInputs, compute_with_ci, load_all
from genbench.metrics import bootstrap as bootstrap_module
from genbench.protocols import PROTOCOLS
from genbench.registry import Registry, import_submodules

load_all()
N, D = 120, 6


def _tiny(key: str, rng: np.random.Generator) -> np.ndarray:
    """A small random array of the kind each input key names (genbench.metrics.values)."""
    what = key.split(".", 1)[1]
    if what in ("embedding", "logits"):
        return rng.standard_normal((N, D)).astype(np.float32)
    if what in ("clip", "text", "text_hessel"):
        x = rng.standard_normal((N, 16))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    if what == "images":
        return rng.integers(0, 256, (N, 3, 8, 8), dtype=np.uint8)
    if what == "points":
        return rng.standard_normal((N, 2))
    if what == "labels":
        return rng.integers(0, 10, N)
    if what == "class_probs":
        p = rng.random((N, 10))
        return p / p.sum(axis=1, keepdims=True)
    if what == "channel_classes":
        return rng.integers(0, 10, (N, 3))
    raise AssertionError(f"conformance test has no generator for input {key!r}: add one")


def _inputs(cls: type[Metric], seed: int = 0) -> MetricInputs:
    rng = np.random.default_rng(seed)
    keys = sorted(set(cls.needs) | {f"{s}.embedding" for s in ("fake", "real")})
    return MetricInputs({k: _tiny(k, rng) for k in keys}, {"dataset": None, "extractor": "test"})


@pytest.fixture(params=METRICS.names())
def metric_cls(request) -> type[Metric]:
    return METRICS.get(request.param)


def test_name_matches_key_and_params_is_a_frozen_dataclass(metric_cls):
    assert metric_cls.name in METRICS and METRICS.get(metric_cls.name) is metric_cls
    assert dataclasses.is_dataclass(metric_cls.Params) and metric_cls.Params.__dataclass_params__.frozen
    m = metric_cls()
    assert m.params == metric_cls.Params()
    assert metric_cls(m.params).params is m.params
    with pytest.raises(ConfigError, match=metric_cls.name):
        metric_cls(object())
    assert isinstance(m.params_record(), dict)


def test_directions_cover_outputs(metric_cls):
    assert set(metric_cls.higher_is_better) == set(metric_cls.outputs)
    assert metric_cls.needs and all("." in k for k in metric_cls.needs)
    assert set(metric_cls.bootstrap_sets) <= {"fake", "real", "train", "heldout"}


def test_count_values_equal_point_on_the_materialised_resample(metric_cls):
    """A metric's count_replicates (genbench.compare.paired's row-count path) are its own outputs, and its
    `count_values` on row counts equals `point` on the materialised resample (Metric.count_values)."""
    from genbench.metrics.functional.counts import Pool, Resample

    assert set(metric_cls.count_replicates) <= set(metric_cls.outputs)
    if metric_cls.name in ("fd", "pr"):
        assert metric_cls.count_replicates == metric_cls.outputs
    if not metric_cls.count_replicates:
        return
    m, inputs, rng = metric_cls(), _inputs(metric_cls), np.random.default_rng(5)
    fake, real = (Pool.of(inputs.get(f"{s}.embedding")) for s in ("fake", "real"))
    for _ in range(3):
        cf, cr = (np.bincount(rng.integers(0, len(p), len(p)), minlength=len(p)).astype(float) for p in (fake, real))
        args = (metric_cls.count_replicates, Resample(fake, cf), Resample(real, cr), MetricConfig())
        fast, full = m.count_values(*args), Metric.count_values(m, *args)
        assert fast.keys() == full.keys()
        for o in fast:
            assert fast[o] == pytest.approx(full[o], **_count_tolerance(m)), o


def _count_tolerance(m: Metric) -> dict:
    """Count form against its materialised definition: float64 maths agree to 1e-9. A metric computing in
    float32 (kid's default precision) computes the materialised kernels on repeated rows, other BLAS shapes
    that may round a product differently: they agree to float32 rounding of the kernels (2⁻²⁴ ≈ 6e-8 each,
    grown by the cancellation of the MMD²'s terms), so 1e-5 relative."""
    return dict(rel=1e-5, abs=1e-9) if getattr(m.params, "precision", None) == "float32" else dict(rel=1e-9, abs=1e-12)


def test_computes_on_tiny_inputs_deterministically(metric_cls):
    m, cfg = metric_cls(), MetricConfig(bootstrap=3, seed=1)
    inputs = _inputs(metric_cls)
    reason = m.available(inputs)
    if reason is not None:
        pytest.skip(f"{metric_cls.name}: {reason}")
    first = m.compute(inputs, cfg)
    second = metric_cls().compute(_inputs(metric_cls), cfg)
    assert first and set(first) <= set(metric_cls.outputs)
    for k, v in first.items():
        w = second[k]
        assert (v.value == w.value) or (math.isnan(v.value) and math.isnan(w.value)), k
        assert v.std == w.std and v.ci95 == w.ci95, k


def _definition(m: Metric, inputs: MetricInputs, draws: list, cfg: MetricConfig) -> list[dict[str, float]]:
    """Each draw's replicate by its definition: the metric's materialised form of the row-count replicate
    where its own interval uses counts, else point() on the materialised resample."""
    from genbench.metrics.functional.counts import Pool, Resample

    if not m.counts_apply(inputs):
        return Metric.materialised_replicates(m, inputs, draws, cfg)
    pools = {s: Pool.of(inputs.get(f"{s}.embedding")) for s in ("fake", "real")}
    out = []
    for d in draws:
        f, r = (Resample(pools[s], np.bincount(d[s], minlength=len(pools[s])).astype(float) if s in d
                         else np.ones(len(pools[s]))) for s in ("fake", "real"))  # a set not resampled: all rows
        out.append(m.materialised_values(m.count_replicates, f, r, cfg))
    return out


def test_replicates_fast_path_equals_full_recomputation(metric_cls):
    """A metric's `replicates` (row counts, a fast path or the default) equals its definition computed the
    slow way on each materialised resample."""
    m, cfg = metric_cls(), MetricConfig(bootstrap=0)
    inputs = _inputs(metric_cls, seed=2)
    if m.available(inputs) is not None or not m.resample_sizes(inputs):
        pytest.skip(f"{metric_cls.name}: no bootstrap")
    rng = np.random.default_rng(5)
    draws = [bootstrap_module.draw_indices(rng, m.resample_sizes(inputs), m.paired) for _ in range(3)]
    fast = m.replicates(inputs, draws, cfg)
    slow = _definition(m, inputs, draws, cfg)
    for f, s in zip(fast, slow):
        assert f.keys() == s.keys()
        for k in f:
            assert f[k] == pytest.approx(s[k], rel=1e-9, abs=1e-12), k


def test_registry_refuses_a_name_that_differs_from_the_key():
    reg: Registry[type] = Registry("thing")
    with pytest.raises(ValueError, match="'b'.*'a'"):
        reg.add("b", type("A", (), {"name": "a"}))
    reg.add("a", type("A", (), {"name": "a"}))


def test_discovery_imports_a_new_module_without_a_list(tmp_path, monkeypatch):
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("FOUND = []\n")
    (pkg / "newmetric.py").write_text("from fakepkg import FOUND\nFOUND.append('newmetric')\n")
    (pkg / "functional_x.py").write_text("raise RuntimeError('skipped modules are not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = import_submodules("fakepkg", skip=lambda n: n.startswith("functional"))
    assert names == ["newmetric"] and sys.modules["fakepkg"].FOUND == ["newmetric"]


def test_every_metric_module_is_discovered():
    here = Path(inspect.getfile(Metric)).parent
    registering = {p.stem for p in here.glob("*.py") if "METRICS.add(" in p.read_text()
                   or "@METRICS.register(" in p.read_text()} - {"base"}
    assert registering <= {m.__module__.rsplit(".", 1)[1] for _, m in METRICS.items()}


def test_bootstrap_does_not_import_base():
    tree = ast.parse(Path(bootstrap_module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "genbench.metrics.base" not in imported


def test_protocol_builds_metrics_with_its_params_and_records_them():
    proto = PROTOCOLS.get("digits-default")
    assert proto.build_metric("kid").params.subset_size == 300
    assert proto.build_metric("ndb").params.bins == 20
    assert proto.build_metric("ssim_diversity").params.pairs == 500
    assert proto.build_metric("pr").params == METRICS.get("pr").Params()
    rec = proto.record()
    assert rec["metric_params"]["kid"] == {"subsets": 100, "subset_size": 300, "precision": "float32"}
    assert rec["metric_params"]["kd"] == {"subsets": 100, "subset_size": 300, "precision": "float64"}
    assert set(rec["metric_params"]) == set(proto.metric_names())
    assert set(rec["metric_config"]) == {f.name for f in dataclasses.fields(MetricConfig)}


def test_compute_is_the_bootstrap_wrapper():
    inputs = _inputs(METRICS.get("kid"))
    cfg = MetricConfig(bootstrap=4, seed=2)
    m = METRICS.get("pr")()
    assert m.compute(inputs, cfg) == compute_with_ci(m, inputs, cfg)
