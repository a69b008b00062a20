"""evaluate(samples, reference, protocol) -> EvalResult: validate everything, decode once, then compute.

1. Plan: resolve the protocol and the requested metrics (family or output names), open every set without
   decoding it, resolve each feature space's extractor identity without building the network, and gather
   each space's inputs as lazy values (genbench.eval.inputs). Every metric that cannot run is known here: an
   explicitly requested one raises a ConfigError before any decode, extraction or bootstrap; one that comes
   from a protocol or `--metrics all` is skipped with its reason.
2. Decode each image set once into memory (genbench.eval.inputs.decode_once); the fingerprint, every extractor
   and the image metrics read that one array.
3. Compute: features come from the cache when present (the network is then never built and its weights
   never hashed again), else from one pass of the network; metrics read what they need.
The sets may be image sources, reference statistics files (genbench.refs.stats.RefStats, `.npz` written by
`genbench ref`) or genbench.refs.stats.PrecomputedFeatures. No extractor, dataset or metric name is known
here: extractors declare what they provide, metrics what they need, datasets their traits.
"""
from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from genbench import distributed
from genbench.version import __version__
from genbench.errors import ConfigError, InputError, NotEnoughSamplesError, WeightsError
from genbench.eval.plan import (MetricRequest, check_image_sizes, check_weights_names, extractor_handle,
                                metric_request, open_reference, space_reference)
from genbench.features.cache import FeatureCache
from genbench.eval.inputs import (MAX_DECODE_BYTES, POINTS, ExtractOptions, ExtractorHandle, ImageSource, SetSource,
                             StatsSource, as_source, check_prompts, space_arrays)
from genbench.metrics import METRICS, Metric, MetricConfig, MetricInputs, MetricValue, load_all
from genbench.metrics.bootstrap import compute_with_ci
from genbench.metrics.inception_only import INCEPTION
from genbench.numerics import cpu_record, device_record, reproducibility_record, resolve_device
from genbench.paths import default_cache_dir
from genbench.protocols import PROTOCOLS, FeatureSpace, Protocol, custom_protocol, space_traits
from genbench.eval.options import EvalOptions, resolve_options
from genbench.eval.result import EvalResult
from genbench.sets.samples import SampleSet, open_samples

DEFAULT_METRICS = ("fid", "kid", "is")
GENERIC_METRICS = ("fd", "kd", "classifier_score")  # the same maths, named honestly, on non-Inception features


@dataclass
class _Run:
    """Mutable accumulator of one evaluation."""

    values: dict[str, MetricValue] = field(default_factory=dict)
    directions: dict[str, bool | None] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    extractors: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: {"features": 0.0, "metrics": 0.0})


@dataclass
class _Space:
    """One feature space, planned: its inputs (lazy) and the metrics that will run on them."""

    space: FeatureSpace
    handle: ExtractorHandle | None
    inputs: MetricInputs | None
    metrics: list[tuple[str, Metric]] = field(default_factory=list)


def resolve_protocol(protocol: str | Protocol | None, metrics: Sequence[str] | str | None,
                     extractor: str | None, seed: int, bootstrap: int | None, device: str) -> Protocol:
    load_all()
    if isinstance(protocol, str):
        protocol = PROTOCOLS.get(protocol)
    req = metric_request(metrics)
    names = req.families
    if protocol is None:
        extractor = extractor or "inception-v3-tf"
        default = DEFAULT_METRICS if INCEPTION in space_traits(extractor) else GENERIC_METRICS
        proto = custom_protocol(extractor, tuple(names or default), MetricConfig())
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
               num_reference: int | None, value_range: str | None) -> tuple[Any, Any]:
    fake = _open(samples, value_range, "--samples")
    ref_spec = reference if reference is not None else proto.reference
    if ref_spec is None:
        raise ConfigError(f"--ref: protocol {proto.name} has no default reference; name one")
    real = open_reference(ref_spec)
    if real is None:
        real = _open(ref_spec, value_range, "--ref")
    if isinstance(fake, SampleSet):
        fake = fake.take(num_samples or (min(proto.num_samples, len(fake)) if proto.num_samples else None))
    elif num_samples is not None and num_samples != len(fake):
        raise ConfigError(f"--num-samples {num_samples}: --samples holds {len(fake)} precomputed rows")
    if isinstance(real, SampleSet):
        real = real.take(num_reference or (min(proto.num_reference, len(real)) if proto.num_reference else None))
    elif num_reference is not None and num_reference != len(real):
        raise ConfigError(f"--num-ref {num_reference}: the reference holds statistics of {len(real)} images; "
                          "a statistics file cannot be subsampled")
    kinds = {getattr(s, "kind", "images") for s in (fake, real)}
    if len(kinds) > 1:
        raise InputError("--samples is a set of points but --ref is a set of images (or the reverse)")
    if isinstance(fake, SampleSet) and fake.kind == "images" and fake.item_shape[0] != 3:
        raise InputError(f"{fake.source}: images must have 3 channels after conversion")
    check_image_sizes(fake, real, proto.spaces)  # raw pixels of two sizes cannot be compared: said before any work
    return fake, real


def _open(spec: Any, value_range: str | None, what: str) -> Any:
    from genbench.refs.stats import PrecomputedFeatures, RefStats

    return spec if isinstance(spec, (PrecomputedFeatures, RefStats)) else open_samples(
        spec, value_range=value_range, what=what)


def evaluate(samples: Any, reference: Any = None, *, protocol: str | Protocol | None = None,
             metrics: Sequence[str] | str | None = None, train: Any = None, heldout: Any = None,
             prompts: list[str] | None = None, name: str | None = None, timings: dict[str, float] | None = None,
             options: EvalOptions | None = None, **overrides: Any) -> EvalResult:
    """Score `samples` against `reference` under a protocol (or an ad-hoc extractor + metric list).

    `samples` / `reference`: a folder, .npz/.npy, dataset name, array, SampleSet, or
    genbench.refs.stats.PrecomputedFeatures; `reference` may also be a statistics file from `genbench ref`.
    How it runs is an EvalOptions (`options=`), or its fields as keywords (`seed=1, batch_size=128`), which
    override those of `options`: extractor, num_samples, num_reference, seed, batch_size, device, weights,
    allow_unverified, cache_dir, bootstrap, prompt_template, value_range, progress.
    Explicitly requested metrics (family or output names) that cannot be computed raise before any work;
    metrics that come from a protocol or from --metrics all are skipped with the reason recorded in
    `EvalResult.skipped`. If `timings` is a dict, seconds spent on features and on metrics are added to it.
    """
    opt = resolve_options(options, overrides, "evaluate()")
    return _evaluate(samples, reference, protocol, metrics, _Extra(train, heldout, prompts), opt, name, timings)


@dataclass(frozen=True)
class _Extra:
    """The sets and prompts some metrics read beside the samples and the reference."""

    train: Any = None
    heldout: Any = None
    prompts: list[str] | None = None


def _evaluate(samples: Any, reference: Any, protocol: str | Protocol | None, metrics: Sequence[str] | str | None,
              more: _Extra, opt: EvalOptions, name: str | None, timings: dict[str, float] | None) -> EvalResult:
    dev = resolve_device(opt.device)
    req = metric_request(metrics)
    proto = resolve_protocol(protocol, metrics, opt.extractor, opt.seed, opt.bootstrap, dev.type)
    check_weights_names(opt.weights or {})
    sets, real, prompts = _sources(samples, reference, proto, more, opt)
    run = _Run()
    plans = [_plan(_expand_all(s), sets, real, proto, dev, dict(opt.weights or {}), opt.allow_unverified, prompts,
                   req, run) for s in proto.spaces]
    for src in sets.values():  # everything is validated: now decode each image set once
        if isinstance(src, ImageSource):
            src.materialise(MAX_DECODE_BYTES)
    distributed.agree("evaluate()", _agreement(proto, sets, plans, dict(
        batch_size=opt.batch_size, metrics=metrics, prompts=prompts, allow_unverified=opt.allow_unverified)))
    for plan in plans:
        _run_space(plan, proto, req, run, opt.progress)
    if timings is not None:
        for k, v in run.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    return EvalResult(run.values, _record(proto, sets, dev, run, opt.seed), sets["fake"].describe(),
                      sets["real"].describe(), run.skipped, run.directions, name)


def _sources(samples: Any, reference: Any, proto: Protocol, more: _Extra,
             opt: EvalOptions) -> tuple[dict[str, SetSource], Any, list[str] | None]:
    """Every set opened (not decoded) behind the feature cache, the reference as opened, and the prompts."""
    fake, real = _open_sets(samples, reference, proto, opt.num_samples, opt.num_reference, opt.value_range)
    extra = {k: open_samples(v, what=f"--{k}") for k, v in (("train", more.train), ("heldout", more.heldout))
             if v is not None}
    prompts = more.prompts
    if opt.prompt_template is not None:
        prompts = prompts_from_template(opt.prompt_template, fake)
    check_prompts(prompts, len(fake))
    cache_dir = opt.cache_dir
    cache = cache_dir if isinstance(cache_dir, FeatureCache) else FeatureCache(  # an instance: genbench.Evaluator
        None if cache_dir is False else (cache_dir or default_cache_dir()))
    ext = ExtractOptions(batch_size=opt.batch_size, progress=opt.progress)
    sets = {k: as_source(v, cache, ext) for k, v in {"fake": fake, "real": real, **extra}.items()}
    return sets, real, prompts


def _agreement(proto: Protocol, sets: dict[str, SetSource], plans: list[_Space], options: dict) -> dict:
    """What every torchrun rank must share before features are gathered (genbench.distributed.agree)."""
    inputs = {k: {f: s.describe().get(f) for f in ("fingerprint", "n", "kind")} for k, s in sets.items()}
    extractors = {p.space.extractor: p.handle.cache_identity() for p in plans if p.handle is not None}
    return {"protocol": proto.record(), "inputs": inputs, "extractors": extractors, "options": options}


def prompts_from_template(template: str, samples: Any) -> list[str]:
    """One prompt per sample from a class template such as "a handwritten digit {label}"."""
    if getattr(samples, "labels", None) is None:
        raise InputError(f"--prompt-template: {getattr(samples, 'source', '--samples')} has no class labels "
                         "(give --prompts FILE instead)")
    if "{label}" not in template:
        raise ConfigError(f"--prompt-template {template!r}: must contain {{label}}")
    return [template.replace("{label}", str(int(v))) for v in samples.labels]


def _skip_space(space: FeatureSpace, reason: str, req: MetricRequest, run: _Run) -> _Space:
    if req.explicit:
        raise ConfigError(f"--metrics {','.join(space.metrics)}: cannot be computed here: {reason}")
    for m in space.metrics:
        run.skipped[m + space.suffix] = reason
    return _Space(space, None, None)


def _plan(space: FeatureSpace, sets: dict[str, SetSource], real: Any, proto: Protocol, dev: torch.device,
          weights: dict[str, str], allow_unverified: bool, prompts: list[str] | None, req: MetricRequest,
          run: _Run) -> _Space:
    handle = None
    if space.extractor != POINTS:
        try:
            handle = extractor_handle(space.extractor, dev, weights, allow_unverified)
        except WeightsError:
            if not space.optional:
                raise
            return _skip_space(space, f"{space.extractor} weights not installed "
                                      f"(genbench weights import {space.extractor} PATH)", req, run)
    sets = dict(sets)
    ref = space_reference(real, space, handle)
    if isinstance(ref, str):
        return _skip_space(space, ref, req, run)
    if ref is not None:
        sets["real"] = StatsSource(ref)
    for role in ("fake", "real"):
        why = sets[role].unsupported(handle)
        if why is not None:
            return _skip_space(space, why, req, run)
    box: dict[str, MetricInputs] = {}
    arrays = space_arrays(sets, handle, prompts, dev, _batch(sets), lambda k: box["i"].get(k))
    context = {"dataset": _dataset(real) or _dataset(getattr(sets["fake"], "samples", None)),
               "extractor": space.extractor, "extractor_traits": space_traits(space.extractor)}
    box["i"] = inputs = MetricInputs(arrays, context)
    plan = _Space(space, handle, inputs)
    for mname in space.metrics:
        metric = proto.build_metric(mname)
        reason = metric.available(inputs) or _size_reason(metric, sets)
        if reason is None:
            plan.metrics.append((mname, metric))
        elif req.explicit:
            raise ConfigError(f"--metrics {mname}: cannot be computed here: {_explain(reason, sets)}")
        else:
            run.skipped[mname + space.suffix] = _explain(reason, sets)
    return plan


def _dataset(obj: Any) -> str | None:
    """The built-in dataset a set (or a statistics file's source) is, if any."""
    rec = getattr(obj, "record", None)
    return rec.get("dataset") if isinstance(rec, dict) else getattr(obj, "dataset", None)


def _batch(sets: dict[str, SetSource]) -> int:
    src = next((s for s in sets.values() if isinstance(s, ImageSource)), None)
    return src.opts.batch_size if src is not None else 64


def _explain(reason: str, sets: dict[str, SetSource]) -> str:
    if isinstance(sets["real"], StatsSource) and "real." in reason:
        return (f"{reason} (the reference is the statistics file {sets['real'].stats.path}; features are kept "
                "only with `genbench ref --keep-features`, images never)")
    return reason


def _size_reason(metric: Metric, sets: dict[str, SetSource]) -> str | None:
    """Set sizes that make a metric impossible, known before any work (paired sets, minimum N)."""
    used = sorted({k.split(".", 1)[0] for k in metric.needs} & set(sets))
    sizes = {s: sets[s].n for s in used if sets[s].n is not None}  # None: a statistics file of unknown N
    if metric.paired and len(set(sizes.values())) > 1:
        return f"pairs the sets row by row and needs equal sizes; got {', '.join(f'{s}={n}' for s, n in sizes.items())}"
    small = {s: n for s, n in sizes.items() if n < metric.min_samples}
    if small:
        return f"needs at least {metric.min_samples} samples per set; got {small}"
    return None


def _bar(plan: _Space, proto: Protocol, progress: bool):
    """The space's metrics, behind a progress bar (genbench.progress); each yields with a replicate counter."""
    from genbench.progress import bar as progress_bar

    b = proto.config.bootstrap
    bar = progress_bar(plan.metrics, desc=f"metrics {plan.space.extractor}", unit="metric",
                       enabled=progress and bool(plan.metrics))
    for mname, metric in bar:
        bar.set_postfix_str(mname)
        with progress_bar(total=b, desc=f"bootstrap {mname}", unit="replicate", leave=False, position=1,
                          enabled=progress and b > 0) as reps:
            yield mname, metric, reps.update


def _run_space(plan: _Space, proto: Protocol, req: MetricRequest, run: _Run, progress: bool = False) -> None:
    if plan.inputs is None:
        return
    inputs, space = plan.inputs, plan.space
    t0 = time.perf_counter()
    for key in ("fake.embedding", "real.embedding"):  # extract (or load) features up front: timed apart
        if inputs.has(key) and any(key in m.needs for _, m in plan.metrics):
            inputs.get(key)
    t1 = time.perf_counter()
    for mname, metric, tick in _bar(plan, proto, progress):
        _run_metric(metric, mname, space, inputs, proto, req, run, tick)
    if plan.handle is not None:
        run.extractors.append(plan.handle.record())
    run.timings["features"] += t1 - t0
    run.timings["metrics"] += time.perf_counter() - t1


def _run_metric(metric: Metric, mname: str, space: FeatureSpace, inputs: MetricInputs, proto: Protocol,
                req: MetricRequest, run: _Run, tick: Callable[[], None] | None = None) -> None:
    try:
        values = compute_with_ci(metric, inputs, proto.config, tick)  # bootstrap: a wrapper evaluate applies
    except NotEnoughSamplesError as e:
        if req.explicit:
            raise
        run.skipped[mname + space.suffix] = str(e)
        return
    for out, v in values.items():
        if req.keeps(mname, out):
            run.values[out + space.suffix] = v
            run.directions[out + space.suffix] = metric.higher_is_better.get(out)


def _record(proto: Protocol, sets: dict[str, SetSource], dev: torch.device, run: _Run, seed: int) -> dict:
    rec = proto.record()
    real = sets["real"].describe()
    rec.update({
        "genbench_version": __version__, "torch_version": torch.__version__,
        "numpy_version": np.__version__, "python": platform.python_version(),
        "device": device_record(dev), "cpu": cpu_record(), "reproducibility": reproducibility_record(),
        "seed": seed, "bootstrap": proto.config.bootstrap,
        "n_gen": sets["fake"].n, "n_ref": sets["real"].n, "reference_fingerprint": real["fingerprint"],
        "reference_source": real["source"], "extractors": run.extractors,
        "unverified": any(not e.get("weights_verified", True) for e in run.extractors),
        "distance_dtype": proto.config.distance_dtype,
    })
    if isinstance(sets["real"], StatsSource):
        rec["reference_statistics"] = {"path": str(Path(sets["real"].stats.path or "")),
                                       "record": sets["real"].stats.record}
    return rec
