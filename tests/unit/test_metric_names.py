"""Honest names and units: fid/kid/is only on Inception features, kid in units of 10⁻³ (×10³), the
conventions' named variants, and every metric naming the code it matches."""
from __future__ import annotations

import numpy as np
import pytest

from genbench.errors import ConfigError
from genbench.metrics import METRICS, MetricConfig, MetricInputs, functional as fn, load_all
from genbench.features import EXTRACTORS, load_all as load_extractors
from genbench.features.base import extractor_traits
from genbench.protocols import PROTOCOLS

NO_BOOT = MetricConfig(bootstrap=0)
INCEPTION_ONLY = {"fid": "fd", "kid": "kd", "is": "classifier_score"}
load_all()  # at import: the last test is parametrised over the registry
load_extractors()
INCEPTION_EXTRACTORS = sorted(n for n in EXTRACTORS.names() if "inception" in EXTRACTORS.get(n).traits)


def _inputs(extractor: str | None, seed: int = 0) -> MetricInputs:
    rng = np.random.default_rng(seed)
    arrays = {"fake.embedding": rng.standard_normal((60, 5)), "real.embedding": rng.standard_normal((50, 5)) + 0.2,
              "fake.logits": 2.0 * rng.standard_normal((60, 10))}
    context = {"extractor": extractor, "extractor_traits": extractor_traits(extractor)} if extractor else {}
    return MetricInputs(arrays, context)


@pytest.mark.parametrize("name,generic", sorted(INCEPTION_ONLY.items()))
def test_inception_names_exist_only_on_inception_features(name, generic):
    metric = METRICS.get(name)()
    assert INCEPTION_EXTRACTORS == ["inception-v3-clean", "inception-v3-tf"]  # the declared trait
    for extractor in INCEPTION_EXTRACTORS:
        assert metric.available(_inputs(extractor)) is None
    reason = metric.available(_inputs("digits-classifier"))
    assert reason and "Inception features only" in reason and generic in reason
    assert METRICS.get(generic)().available(_inputs("digits-classifier")) is None


def test_no_preset_reports_an_inception_name_on_another_extractor():
    for name, proto in PROTOCOLS.items():
        for space in proto.spaces:
            if space.extractor not in INCEPTION_EXTRACTORS:
                assert not set(space.metrics) & set(INCEPTION_ONLY), (name, space.extractor)


def test_kid_is_kd_times_1000_with_its_unit_and_no_subset_std_as_std():
    inputs = _inputs("inception-v3-tf")
    kd_cls, kid_cls = METRICS.get("kd"), METRICS.get("kid")
    kd = kd_cls(kd_cls.Params(precision="float32")).compute(inputs, NO_BOOT)["kd"]  # kid's default numerics
    kid = kid_cls().compute(inputs, NO_BOOT)["kid"]
    assert kid.value == pytest.approx(1000.0 * kd.value, rel=1e-12)
    assert kid.details["unit"] == "×10³" and METRICS.get("kid").units == {"kid": "×10³"}
    assert kid.std is None and kid.details["subset_std"] == pytest.approx(1000.0 * kd.details["subset_std"])


def test_kid_defaults_to_float32_numerics_and_kd_to_float64():
    """KID's published numbers come from float32 code (torch-fidelity, clean-fid, Bińkowski et al.); kd has none
    and keeps genbench's float64. Each value names its precision; the other one is a setting."""
    inputs = _inputs("inception-v3-tf")
    kd_cls, kid_cls = METRICS.get("kd"), METRICS.get("kid")
    assert (kid_cls.Params().precision, kd_cls.Params().precision) == ("float32", "float64")
    assert issubclass(kid_cls.Params, kd_cls.Params) and not isinstance(kd_cls.Params(), kid_cls.Params)
    kid32 = kid_cls().compute(inputs, NO_BOOT)["kid"]
    kid64 = kid_cls(kid_cls.Params(precision="float64")).compute(inputs, NO_BOOT)["kid"]
    kd64 = kd_cls().compute(inputs, NO_BOOT)["kd"]
    assert (kid32.details["precision"], kid64.details["precision"], kd64.details["precision"]) == (
        "float32", "float64", "float64")
    assert kid64.value == pytest.approx(1000.0 * kd64.value, rel=1e-12)
    # float32 sums of m² kernel values of order 1: the conventions differ by about 1e-7 of those sums
    assert kid32.value == pytest.approx(kid64.value, abs=1000.0 * 1e-5) and kid32.value != kid64.value
    for cls in (kd_cls, kid_cls):
        with pytest.raises(ConfigError, match="precision.*float32, float64"):
            cls.Params(precision="float16")
    assert "float32" in kid_cls.definition and "float64" in kd_cls.definition


def test_classifier_score_is_the_inception_score_formula_with_the_same_modes():
    inputs = _inputs("inception-v3-tf")
    for mode in fn.IS_MODES:
        cls_is, cls_cs = METRICS.get("is"), METRICS.get("classifier_score")
        a = cls_is(cls_is.Params(mode=mode, splits=5)).compute(inputs, NO_BOOT)["is"]
        b = cls_cs(cls_cs.Params(mode=mode, splits=5)).compute(inputs, NO_BOOT)["classifier_score"]
        assert (a.value, a.details["mode"]) == (b.value, mode)
    with pytest.raises(Exception, match="mode"):
        cls_is.Params(mode="nope")


def test_cmmd_default_is_biased_and_cmmd_unbiased_has_its_own_name():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((40, 8)), rng.standard_normal((30, 8)) + 0.5
    inputs = MetricInputs({"fake.clip": x, "real.clip": y})
    assert METRICS.get("cmmd")().compute(inputs, NO_BOOT)["cmmd"].value == pytest.approx(fn.cmmd(x, y))
    unbiased = METRICS.get("cmmd_unbiased")().compute(inputs, NO_BOOT)["cmmd_unbiased"].value
    assert unbiased == pytest.approx(fn.cmmd(x, y, estimator="unbiased"))


def test_protocol_record_names_the_is_mode_and_cmmd_estimator():
    params = PROTOCOLS.get("tf-fid50k").record()["metric_params"]
    assert params["is"]["mode"] == "tf" and params["is"]["splits"] == 10
    assert PROTOCOLS.get("digits-default").record()["metric_params"]["cmmd"]["estimator"] == "biased"


@pytest.mark.parametrize("name", sorted(set(METRICS.names()) - {"modes"}))  # modes: helper gate's file
def test_every_metric_names_the_code_it_matches(name):
    cls = METRICS.get(name)
    assert cls.matches.strip(), f"{name}: no `matches`"
    assert isinstance(cls.differences, tuple)


def test_table_headers_carry_kids_unit():
    from types import SimpleNamespace

    from genbench.board.render import _tex, unit

    kid = METRICS.get("kid")().compute(_inputs("inception-v3-tf"), NO_BOOT)["kid"]
    group = SimpleNamespace(rows=[{"metric": "kid_inception", "details": kid.details},
                                  {"metric": "fd", "details": {}}])
    assert unit(group, "kid_inception") == " ×10³" and unit(group, "fd") == ""
    assert _tex("kid_inception ×10³ ↓") == r"kid\_inception $\times 10^3$ $\downarrow$"


def test_genbench_metrics_prints_unit_matches_and_differences():
    from genbench.commands.metrics import metric_lines

    text = "\n".join(metric_lines("kid", METRICS.get("kid")))
    assert "kid↓ [×10³]" in text and "matches: torch-fidelity" in text and "differs: reported ×10³" in text
