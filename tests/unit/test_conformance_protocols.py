"""Every registered protocol is valid and usable, and registration refuses a protocol that names what does
not exist (issue #17: a protocol is one declarative entry, checked like a metric or an extractor)."""
from __future__ import annotations

import dataclasses

import pytest

from genbench.metrics.kid import KD
from genbench.protocols import PROTOCOLS, FeatureSpace, GateRule, Protocol, protocol_problems
from genbench.registry import Registry

NAMES = PROTOCOLS.names()


@pytest.mark.parametrize("name", NAMES)
def test_registered_protocol_is_valid_and_records(name):
    proto = PROTOCOLS.get(name)
    assert protocol_problems(proto) == []
    rec = proto.record()
    assert rec["protocol"] == name and rec["primary"] == proto.primary
    assert set(rec["metric_params"]) == set(proto.metric_names())
    assert all(proto.build_metric(m).name == m for m in proto.metric_names())


def _base(**kw) -> Protocol:
    fields = dict(name="probe", version="1", description="probe", primary="fd",
                  spaces=(FeatureSpace("digits-classifier", ("fd", "pr")),))
    return Protocol(**{**fields, **kw})


@pytest.mark.parametrize("change,problem", [
    (dict(spaces=(FeatureSpace("digits-clasifier", ("fd",)),)),
     "unknown extractor 'digits-clasifier' (did you mean 'digits-classifier'?)"),
    (dict(spaces=(FeatureSpace("digits-classifier", ("fd", "prc")),)), "unknown metric 'prc' (did you mean 'pr'?)"),
    (dict(spaces=(FeatureSpace("digits-classifier", "fd"),)), "metrics must be a tuple of names, got 'fd'"),
    (dict(primary="fid"), "primary 'fid' is produced by no feature space (did you mean 'fd'?)"),
    (dict(gate_rules=(GateRule("recall", True),)), "tolerance must be a finite number >= 0, got True"),
    (dict(gate_rules=(GateRule("recal", 0.1),)), "gate rule on 'recal'"),
    (dict(gate_rules=(GateRule("recall", -1.0),)), "tolerance must be a finite number >= 0"),
    (dict(gate_rules=(GateRule("recall", float("nan")),)), "tolerance must be a finite number >= 0"),
    (dict(params={"kd": KD.Params(subset_size=10)}), "params for 'kd', which the protocol does not use"),
    (dict(params={"fd": KD.Params(subset_size=10)}), "params for 'fd' must be fd's Params"),
])
def test_registration_refuses_a_bad_protocol(change, problem):
    registry: Registry[Protocol] = Registry("protocol", check=PROTOCOLS._check)
    with pytest.raises(ValueError, match="protocol 'probe'") as e:
        registry.add("probe", _base(**change))
    assert problem in str(e.value)
    assert "probe" not in registry


def test_a_valid_protocol_registers_and_suffixes_count():
    registry: Registry[Protocol] = Registry("protocol", check=PROTOCOLS._check)
    proto = _base(spaces=(FeatureSpace("digits-classifier", ("fd",)), FeatureSpace("pixels", ("pr",), "_pixels")),
                  gate_rules=(GateRule("recall_pixels", 0.1),))
    assert registry.add("probe", proto) is proto
    with pytest.raises(ValueError, match="recall"):
        registry.add("probe2", dataclasses.replace(proto, name="probe2", gate_rules=(GateRule("recall", 0.1),)))


def test_a_gate_rule_needs_a_direction():
    """ssim_diversity_ref (the reference's own diversity) has no better direction: a rule on it bounds nothing."""
    registry: Registry[Protocol] = Registry("protocol", check=PROTOCOLS._check)
    proto = _base(spaces=(FeatureSpace("digits-classifier", ("fd", "ssim_diversity")),),
                  gate_rules=(GateRule("ssim_diversity_ref", 0.1),))
    with pytest.raises(ValueError, match="'ssim_diversity_ref', which has no better direction"):
        registry.add("probe", proto)
