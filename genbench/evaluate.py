"""evaluate(samples, reference, protocol) -> EvalResult: one decode per extractor, cached features.

For each feature space of the protocol: build the extractor (weights resolved offline and checked),
compute or load cached features for both sets, then run each metric on lazily gathered inputs.
"""
from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

import genbench
from genbench.errors import ConfigError, InputError, NotEnoughSamplesError, WeightsError
from genbench.features.cache import FeatureCache
from genbench.inputs import ExtractOptions, feature_inputs, image_inputs, point_inputs, text_inputs
from genbench.metrics import METRICS, Metric, MetricConfig, MetricInputs, MetricValue, load_all
from genbench.numerics import device_record, resolve_device
from genbench.paths import default_cache_dir
from genbench.protocols import PROTOCOLS, FeatureSpace, Protocol, custom_protocol
from genbench.result import EvalResult
from genbench.samples import SampleSet, open_samples

DEFAULT_METRICS = ("fid", "kid", "is")


@dataclass
class _Run:
    """Mutable accumulator of one evaluation."""

    values: dict[str, MetricValue] = field(default_factory=dict)
    directions: dict[str, bool | None] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    extractors: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: {"features": 0.0, "metrics": 0.0})


def resolve_protocol(protocol: str | Protocol | None, metrics: Sequence[str] | str | None,
                     extractor: str | None, seed: int, bootstrap: int | None, device: str) -> Protocol:
    load_all()
    if isinstance(protocol, str):
        protocol = PROTOCOLS.get(protocol)
    names = _metric_names(metrics)
    if protocol is None:
        proto = custom_protocol(extractor or "inception-v3-tf", tuple(names or DEFAULT_METRICS), MetricConfig())
    else:
        proto = protocol
        if extractor is not None:
            raise ConfigError("--extractor: a protocol fixes its extractors; give either --protocol or --extractor")
        if names:
            proto = _restrict(proto, names)
    cfg = proto.config.with_(seed=seed, device=device)
    if bootstrap is not None:
        cfg = cfg.with_(bootstrap=bootstrap)
    return Protocol(**{**proto.__dict__, "config": cfg})


def _metric_names(metrics: Sequence[str] | str | None) -> list[str] | None:
    if metrics is None:
        return None
    names = [m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if names == ["all"]:
        return ["all"]
    for n in names:
        METRICS.get(n)  # raises with a "did you mean"
    return names


def _restrict(proto: Protocol, names: list[str]) -> Protocol:
    if names == ["all"]:
        return proto
    spaces = tuple(FeatureSpace(s.extractor, tuple(m for m in s.metrics if m in names), s.suffix, s.optional)
                   for s in proto.spaces)
    return Protocol(**{**proto.__dict__, "spaces": tuple(s for s in spaces if s.metrics)})


def _expand_all(space: FeatureSpace) -> FeatureSpace:
    if space.metrics != ("all",):
        return space
    return FeatureSpace(space.extractor, tuple(METRICS.names()), space.suffix, space.optional)


def _open_sets(samples: Any, reference: Any, proto: Protocol, num_samples: int | None,
               num_reference: int | None, value_range: str | None) -> tuple[SampleSet, SampleSet]:
    fake = open_samples(samples, value_range=value_range, what="--samples")
    ref_spec = reference if reference is not None else proto.reference
    if ref_spec is None:
        raise ConfigError(f"--ref: protocol {proto.name} has no default reference; name one")
    real = open_samples(ref_spec, value_range=value_range, what="--ref")
    n_fake = num_samples or (min(proto.num_samples, len(fake)) if proto.num_samples else None)
    n_real = num_reference or (min(proto.num_reference, len(real)) if proto.num_reference else None)
    fake, real = fake.take(n_fake), real.take(n_real)
    if fake.kind != real.kind:
        raise InputError(f"--samples is a set of {fake.kind} but --ref is a set of {real.kind}")
    if fake.kind == "images" and fake.item_shape[0] != 3:
        raise InputError(f"{fake.source}: images must have 3 channels after conversion")
    return fake, real


def evaluate(samples: Any, reference: Any = None, *, protocol: str | Protocol | None = None,
             metrics: Sequence[str] | str | None = None, extractor: str | None = None,
             num_samples: int | None = None, num_reference: int | None = None, seed: int = 0,
             batch_size: int = 64, device: str = "auto", weights: dict[str, str] | None = None,
             allow_unverified: bool = False, cache_dir: str | None | bool = None,
             bootstrap: int | None = None, train: Any = None, heldout: Any = None,
             prompts: list[str] | None = None, prompt_template: str | None = None,
             value_range: str | None = None,
             progress: bool = False, name: str | None = None,
             timings: dict[str, float] | None = None) -> EvalResult:
    """Score `samples` against `reference` under a protocol (or an ad-hoc extractor + metric list).

    Explicitly requested metrics that cannot be computed raise; metrics that come from a protocol or
    from --metrics all are skipped with the reason recorded in `EvalResult.skipped`. If `timings` is a
    dict, the seconds spent on features and on metrics are added to it.
    """
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {batch_size}")
    dev = resolve_device(device)
    proto = resolve_protocol(protocol, metrics, extractor, seed, bootstrap, dev.type)
    explicit = metrics is not None and _metric_names(metrics) != ["all"]
    fake, real = _open_sets(samples, reference, proto, num_samples, num_reference, value_range)
    extra = {k: open_samples(v, what=f"--{k}") for k, v in (("train", train), ("heldout", heldout)) if v is not None}
    if prompt_template is not None:
        prompts = prompts_from_template(prompt_template, fake)
    cache = FeatureCache(None if cache_dir is False else (cache_dir or default_cache_dir()))
    opts = ExtractOptions(batch_size=batch_size, progress=progress)
    run = _Run()
    for space in proto.spaces:
        _run_space(_expand_all(space), fake, real, extra, proto, dev, weights or {}, allow_unverified, cache,
                   opts, prompts, explicit, run)
    if timings is not None:
        for k, v in run.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    return EvalResult(run.values, _record(proto, fake, real, dev, run, seed), fake.describe(), real.describe(),
                      run.skipped, run.directions, name)


def prompts_from_template(template: str, samples: SampleSet) -> list[str]:
    """One prompt per sample from a class template such as "a handwritten digit {label}"."""
    if samples.labels is None:
        raise InputError(f"--prompt-template: {samples.source} has no class labels (give --prompts FILE instead)")
    if "{label}" not in template:
        raise ConfigError(f"--prompt-template {template!r}: must contain {{label}}")
    return [template.replace("{label}", str(int(v))) for v in samples.labels]


def _build(space: FeatureSpace, dev: torch.device, weights: dict[str, str], allow_unverified: bool):
    from genbench.features.extract import build_extractor

    return build_extractor(space.extractor, device=str(dev), weights_path=weights.get(space.extractor),
                           allow_unverified=allow_unverified)


def _run_space(space: FeatureSpace, fake: SampleSet, real: SampleSet, extra: dict[str, SampleSet],
               proto: Protocol, dev: torch.device, weights: dict[str, str], allow_unverified: bool,
               cache: FeatureCache, opts: ExtractOptions, prompts: list[str] | None, explicit: bool,
               run: _Run) -> None:
    sets = {"fake": fake, "real": real, **extra}
    if space.extractor == "points":
        arrays = {k: v for p, s in sets.items() for k, v in point_inputs(p, s).items()}
    else:
        if fake.kind != "images":
            raise InputError(f"{fake.source}: extractor {space.extractor} needs images, got a 2-D point set")
        try:
            ext = _build(space, dev, weights, allow_unverified)
        except WeightsError as e:
            if not space.optional:
                raise
            for m in space.metrics:
                run.skipped[m + space.suffix] = (f"{space.extractor} weights not installed "
                                                 f"(genbench weights import {space.extractor} PATH)")
            return
        run.extractors.append(ext.record())
        arrays = {}
        for p, s in sets.items():
            arrays.update(image_inputs(p, s))
            arrays.update(feature_inputs(p, ext, s, cache, opts, stacked=_is_stacked(real)))
        arrays.update(text_inputs(ext, prompts, len(fake)))
    inputs = MetricInputs(arrays, {"dataset": real.dataset or fake.dataset, "extractor": space.extractor})
    t0 = time.perf_counter()
    for key in ("fake.embedding", "real.embedding"):  # extract (or load) features up front: timed apart
        inputs.get(key)
    t1 = time.perf_counter()
    for mname in space.metrics:
        _run_metric(proto.build_metric(mname), mname, space, inputs, proto, explicit, run)
    run.timings["features"] += t1 - t0
    run.timings["metrics"] += time.perf_counter() - t1


def _is_stacked(real: SampleSet) -> bool:
    return (real.dataset or "").startswith("stacked-digits")


def _run_metric(metric: Metric, mname: str, space: FeatureSpace, inputs: MetricInputs, proto: Protocol,
                explicit: bool, run: _Run) -> None:
    reason = metric.available(inputs)
    if reason is not None:
        if explicit:
            raise ConfigError(f"--metrics {mname}: cannot be computed here: {reason}")
        run.skipped[mname + space.suffix] = reason
        return
    try:
        values = metric.compute(inputs, proto.config)
    except NotEnoughSamplesError as e:
        if explicit:
            raise
        run.skipped[mname + space.suffix] = str(e)
        return
    for out, v in values.items():
        run.values[out + space.suffix] = v
        run.directions[out + space.suffix] = metric.higher_is_better.get(out)


def _record(proto: Protocol, fake: SampleSet, real: SampleSet, dev: torch.device, run: _Run, seed: int) -> dict:
    rec = proto.record()
    rec.update({
        "genbench_version": genbench.__version__, "torch_version": torch.__version__,
        "numpy_version": np.__version__, "python": platform.python_version(),
        "device": device_record(dev), "seed": seed, "bootstrap": proto.config.bootstrap,
        "n_gen": len(fake), "n_ref": len(real), "reference_fingerprint": real.fingerprint,
        "reference_source": real.source, "extractors": run.extractors,
        "unverified": any(not e.get("weights_verified", True) for e in run.extractors),
        "distance_dtype": proto.config.distance_dtype,
    })
    return rec
