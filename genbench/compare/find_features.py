"""Find the feature rows behind results, for paired comparisons (the gate, rank groups).

A result records each set's content fingerprint, N and source; with the extractor's cache identity
that is the feature cache's key. Lookup order per set: samples given by the caller, the feature cache,
then re-opening the recorded source (a built-in dataset, a file or folder) when its fingerprint still
matches. When any set cannot be found the caller falls back to independent intervals and says why.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from genbench.errors import GenbenchError
from genbench.features.base import FeatureExtractor
from genbench.features.cache import FeatureCache, cache_key
from genbench.compare.features_file import FeaturesFile
from genbench.eval.inputs import ExtractOptions, cached_features, row_inputs
from genbench.compare.paired import Difference, Side, differences
from genbench.protocols import FeatureSpace, Protocol, space_traits
from genbench.sets.samples import SampleSet, open_samples

class FeaturesUnavailable(Exception):
    """A set's features could not be found; the message says which and why."""


@dataclass(frozen=True)
class Finder:
    """Where to look: checked features files by side ("candidate", "baseline"), which alone answer for
    their side; then samples already open (by fingerprint), the feature cache, the recorded source."""

    cache: FeatureCache
    opened: Mapping[str, SampleSet]
    batch_size: int = 64
    files: Mapping[str, FeaturesFile] = field(default_factory=dict)

    def roles(self, extractor: FeatureExtractor, desc: Mapping, what: str) -> dict[str, np.ndarray]:
        """Metric inputs of one set from its rows (genbench.eval.inputs.row_inputs: roles and row-derived inputs)."""
        return row_inputs(extractor.name, self._raw(extractor, desc, what))

    def raw_of(self, extractor: FeatureExtractor, desc: Mapping, what: str) -> dict[str, np.ndarray]:
        """The extractor's raw outputs for one set ({key: float32 [N, D]}), found as the class says."""
        return self._raw(extractor, desc, what)

    def _raw(self, extractor: FeatureExtractor, desc: Mapping, what: str) -> dict[str, np.ndarray]:
        if what in self.files:
            return _from_file(self.files[what], extractor, what)
        fp, n = desc.get("fingerprint"), desc.get("n")
        if not fp or not n:
            raise FeaturesUnavailable(f"{what}: the result records no sample fingerprint")
        samples = self.opened.get(fp)
        if samples is None:
            hit = self.cache.load(cache_key(fp, int(n), extractor.cache_identity()))
            if hit is not None:
                return hit
            samples = _reopen(desc, what)
        return cached_features(extractor, samples, self.cache, ExtractOptions(self.batch_size))


def _from_file(ff: FeaturesFile, extractor: FeatureExtractor, what: str) -> dict[str, np.ndarray]:
    if extractor.name not in ff.rows:
        raise FeaturesUnavailable(f"{what}: its features file {ff.path.name} holds no {extractor.name} rows")
    if ff.identities.get(extractor.name) != json.loads(json.dumps(extractor.cache_identity(), sort_keys=True)):
        raise FeaturesUnavailable(f"{what}: its features file {ff.path.name} was computed by another version "
                                  f"or weights of {extractor.name}")
    return ff.raw(extractor.name)


def _reopen(desc: Mapping, what: str) -> SampleSet:
    source = str(desc.get("source") or "")
    spec = source[len("dataset:"):] if source.startswith("dataset:") else source
    try:
        s = open_samples(spec, what=what).take(int(desc["n"]))
    except GenbenchError as e:
        raise FeaturesUnavailable(f"{what}: features not cached and source {source!r} cannot be opened "
                                  f"({e})") from None
    if s.fingerprint != desc.get("fingerprint"):
        raise FeaturesUnavailable(f"{what}: source {source!r} has changed since it was scored")
    return s


def space_of(protocol: Protocol, metric: str) -> FeatureSpace:
    """The protocol's feature space whose metrics produce the output `metric` (suffix included)."""
    from genbench.metrics import METRICS, load_all

    load_all()
    for sp in protocol.spaces:
        for m in sp.metrics:
            if m in METRICS and any(o + sp.suffix == metric for o in METRICS.get(m).outputs):
                return sp
    raise FeaturesUnavailable(f"protocol {protocol.name} has no feature space producing {metric!r}")


def paired_differences(a: Mapping, b: Mapping, ref: Mapping, metrics: Sequence[str], protocol: Protocol,
                       finder: Finder, extractors: Mapping[str, FeatureExtractor], reps: int, seed: int,
                       dataset: str | None = None) -> dict[str, Difference]:
    """d = m(a) − m(b) per metric output against the shared reference; a, b, ref are sample records
    (fingerprint, n, source). Raises FeaturesUnavailable when a set cannot be found."""
    out: dict[str, Difference] = {}
    by_space: dict[FeatureSpace, list[str]] = {}
    for m in metrics:
        by_space.setdefault(space_of(protocol, m), []).append(m)
    for sp, names in by_space.items():
        ext = extractors.get(sp.extractor)
        if ext is None:
            raise FeaturesUnavailable(f"extractor {sp.extractor} is not available")
        sides = [Side(finder.roles(ext, d, w)) for d, w in ((a, "candidate"), (b, "baseline"), (ref, "reference"))]
        plain = [n[: len(n) - len(sp.suffix)] if sp.suffix else n for n in names]
        diffs = differences(plain, *sides, protocol.config.with_(seed=seed), reps=reps, seed=seed,
                            context={"dataset": dataset, "extractor": sp.extractor,
                                     "extractor_traits": space_traits(sp.extractor)}, params=protocol.params)
        out.update({n: diffs[p] for n, p in zip(names, plain)})
    return out


@dataclass(frozen=True)
class GateOptions:
    """How the gate computes what it does not find: device, weights ({extractor: path}), the feature cache,
    batch size, bootstrap replicates and the seed (None: the baseline's)."""

    device: str = "auto"
    weights: Mapping[str, str] = field(default_factory=dict)
    allow_unverified: bool = False
    cache_dir: str | bool | None = None  # None: $GENBENCH_HOME/cache; False: none
    batch_size: int = 64
    bootstrap: int = 200
    seed: int | None = None


def gate_tools(protocol: Protocol, metrics: Sequence[str], opts: GateOptions, opened: Mapping[str, SampleSet],
               files: Mapping[str, FeaturesFile] | None = None) -> tuple[dict[str, FeatureExtractor], Finder]:
    """The extractors the metrics' spaces need, and a Finder over the files, opened sets and cache."""
    from genbench.features.extract import build_extractor
    from genbench.paths import default_cache_dir

    names = {space_of(protocol, m).extractor for m in metrics}
    extractors = {n: build_extractor(n, device=opts.device, weights_path=opts.weights.get(n),
                                     allow_unverified=opts.allow_unverified) for n in names}
    root = None if opts.cache_dir is False else (opts.cache_dir or default_cache_dir())  # False: no cache
    finder = Finder(FeatureCache(root), opened, opts.batch_size, dict(files or {}))
    return extractors, finder


def paired_for_gate(candidate, baseline, rules: Sequence, protocol: Protocol | None,
                    opened: Mapping[str, SampleSet], opts: GateOptions,
                    files: Mapping[str, FeaturesFile] | None = None) -> dict:
    """compare()'s keyword arguments: {"diffs": ...} when every set's features were found, else
    {"fallback_reason": why}. `files` holds checked features files by side ("candidate", "baseline")."""
    from genbench.compare.gate import resolve_rules

    if protocol is None:
        return {"fallback_reason": "no registered protocol to take the metric settings from"}
    try:
        parsed = resolve_rules(candidate, baseline, list(rules) or None, protocol)
        metrics = [r.metric for r in parsed]
        extractors, finder = gate_tools(protocol, metrics, opts, opened, files)
        seed = baseline.protocol.get("seed", 0) if opts.seed is None else opts.seed
        ref = baseline.reference if candidate.reference.get("fingerprint") == baseline.reference.get(
            "fingerprint") else None
        if ref is None:
            return {"fallback_reason": "candidate and baseline were scored against different reference sets"}
        return {"diffs": paired_differences(candidate.samples, baseline.samples, ref, metrics, protocol, finder,
                                            extractors, opts.bootstrap, seed, dataset_of(ref))}
    except (FeaturesUnavailable, GenbenchError) as e:
        return {"fallback_reason": str(e)}


def dataset_of(ref: Mapping) -> str | None:
    source = str(ref.get("source") or "")
    return source[len("dataset:"):] if source.startswith("dataset:") else None


@dataclass(frozen=True)
class MultiCache:
    """Several feature caches read in order (a suite's run cache, the user's); misses are written to the first."""

    caches: Sequence[FeatureCache]

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        for c in self.caches:
            hit = c.load(key)
            if hit is not None:
                return hit
        return None

    def get_or_compute(self, key: str, compute) -> dict[str, np.ndarray]:
        hit = self.load(key)
        return hit if hit is not None else self.caches[0].get_or_compute(key, compute)
