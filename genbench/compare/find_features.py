"""Find the feature rows behind results, for paired comparisons (the gate, rank groups).

A result records each set's content fingerprint, N and source; with the extractor's cache identity
that is the feature cache's key. Lookup order per set: samples given by the caller, the feature cache,
then re-opening the recorded source (a built-in dataset, a file or folder) when its fingerprint still
matches. When any set cannot be found the caller falls back to independent intervals and says why.

Derived inputs that rows of output roles cannot rebuild (channel_classes from the images) come, per set,
from its features file's stored rows, else from its images by the extractor's own Derived function
(genbench.eval.derived_rows), under the set traits of the set and the reference as in an evaluation. They
are part of the set's arrays, so the paired bootstrap resamples them with the same row indices.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError, GenbenchError, MissingInputError
from genbench.features.base import EXTRACTORS, FeatureExtractor
from genbench.features.cache import FeatureCache
from genbench.compare.features_file import FeaturesFile
from genbench.eval.derived_rows import (conditional, derivable_names, derive_for_set, describe_sources,
                                        provenance_mismatch, unrebuildable)
from genbench.eval.inputs import ExtractOptions, cached_features, features_key, manifest_traits, row_inputs
from genbench.compare.paired import Difference, Side, differences, metric_for
from genbench.protocols import FeatureSpace, Protocol, space_traits
from genbench.sets.samples import SampleSet, open_samples

class FeaturesUnavailable(Exception):
    """A set's features could not be found; the message says which and why."""


@dataclass(frozen=True)
class Want:
    """Derived inputs a comparison needs of one set beyond its rows: their names, the set they are read as
    ("fake": a compared set; "real": the reference) and the reference's traits (for `when` / `unless`)."""

    names: tuple[str, ...] = ()
    prefix: str = "fake"
    traits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finder:
    """Where to look: checked features files by side ("candidate", "baseline"), which alone answer for
    their side; then samples already open (by fingerprint), the feature cache, the recorded source."""

    cache: FeatureCache
    opened: Mapping[str, SampleSet]
    batch_size: int = 64
    files: Mapping[str, FeaturesFile] = field(default_factory=dict)

    def roles(self, extractor: FeatureExtractor, desc: Mapping, what: str,
              want: Want = Want()) -> dict[str, np.ndarray]:
        """Metric inputs of one set: its rows with the inputs rebuilt from them (genbench.eval.inputs.row_inputs),
        plus the derived inputs `want` names that rows cannot give: stored rows, else derived from its images."""
        out = row_inputs(extractor.name, self._raw(extractor, desc, what))
        names = [n for n in unrebuildable(extractor.name, want.names) if n not in out]
        if names and what in self.files:
            out.update(_stored(self.files[what], extractor, what, names))
        elif names:
            out.update(self._derive(extractor, desc, what, names, want, out))
        return out

    def _derive(self, extractor: FeatureExtractor, desc: Mapping, what: str, names: Sequence[str], want: Want,
                rows: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`names` derived from the set's images, as an evaluation would under the reference's traits and the
        set's own (when it is open already): a set is re-opened only when one of them applies."""
        opened = self.opened.get(str(desc.get("fingerprint")))
        traits = want.traits | (manifest_traits(opened.manifest) if opened is not None else frozenset())
        if not derivable_names(extractor.name, names, want.prefix, rows, traits):
            return {}
        samples = opened if opened is not None else _reopen(desc, what)
        return derive_for_set(extractor, names, want.prefix, samples.load, rows,
                              traits | manifest_traits(samples.manifest), batch_size=self.batch_size)

    def traits(self, desc: Mapping, what: str) -> frozenset[str]:
        """The declared traits of a recorded set (its dataset's or manifest's); none when it cannot be opened."""
        try:
            return manifest_traits(self._samples(desc, what).manifest)
        except FeaturesUnavailable:
            return frozenset()

    def _samples(self, desc: Mapping, what: str) -> SampleSet:
        opened = self.opened.get(str(desc.get("fingerprint")))
        return opened if opened is not None else _reopen(desc, what)

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
            hit = self.cache.load(features_key(fp, int(n), extractor))
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


def _stored(ff: FeaturesFile, extractor: FeatureExtractor, what: str, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The stored rows of `names` that a features file holds, each derived as this version derives it."""
    stored, out = ff.derived_of(extractor.name), {}
    for n in (n for n in names if n in stored):
        why = provenance_mismatch(extractor.name, n, ff.provenance[extractor.name][n])
        if why is not None:
            raise FeaturesUnavailable(f"{what}: its features file {ff.path.name} holds other rows: {why}")
        out[n] = stored[n]
    return out


def _reopen(desc: Mapping, what: str) -> SampleSet:
    """The set a result describes, reopened from its recorded source (a dataset name or a path; the `[:n]` that
    SampleSet.take appends is dropped, n comes from the record) and checked against its fingerprint."""
    source = str(desc.get("source") or "")
    spec = source[len("dataset:"):] if source.startswith("dataset:") else source
    spec = re.sub(r"\[:\d+\]$", "", spec)
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
        plain = [n[: len(n) - len(sp.suffix)] if sp.suffix else n for n in names]
        sets = set_inputs(finder, ext, plain, {"candidate": a, "baseline": b, "reference": ref})
        try:
            diffs = differences(plain, *(Side(sets[w]) for w in ("candidate", "baseline", "reference")),
                                protocol.config.with_(seed=seed), reps=reps, seed=seed,
                                context={"dataset": dataset, "extractor": sp.extractor,
                                         "extractor_traits": space_traits(sp.extractor)}, params=protocol.params)
        except (ConfigError, MissingInputError):
            why = missing_message(names, ext.name, plain, sets, finder)
            if why is None:
                raise
            raise FeaturesUnavailable(why) from None
        out.update({n: diffs[p] for n, p in zip(names, plain)})
    return out


def wants(finder: Finder, extractor: str, outputs: Sequence[str], ref: Mapping) -> dict[str, Want]:
    """The derived inputs rows cannot give that the metrics behind `outputs` need, as "fake" and as "real";
    the reference's traits are looked up only when one of them depends on traits."""
    needs: dict[str, set[str]] = {"fake": set(), "real": set()}
    for o in outputs:
        for key in metric_for(o).needs:
            prefix, _, name = key.partition(".")
            needs.setdefault(prefix, set()).add(name)
    names = {p: tuple(unrebuildable(extractor, needs[p])) for p in ("fake", "real")}
    traits = (finder.traits(ref, "reference") if conditional(extractor, names["fake"] + names["real"])
              else frozenset())
    return {p: Want(names[p], p, traits) for p in ("fake", "real")}


def set_inputs(finder: Finder, ext: FeatureExtractor, outputs: Sequence[str],
               descs: Mapping[str, Mapping]) -> dict[str, dict[str, np.ndarray]]:
    """{what: metric inputs} of each set ("reference" is read as the real set, any other as a fake one)."""
    w = wants(finder, ext.name, outputs, descs["reference"])
    return {what: finder.roles(ext, d, what, w["real" if what == "reference" else "fake"])
            for what, d in descs.items()}


def missing_message(names: Sequence[str], extractor: str, outputs: Sequence[str],
                    sets: Mapping[str, Mapping[str, np.ndarray]], finder: Finder) -> str | None:
    """One line naming the metric outputs, the set and the derived inputs it lacks, and why (None: none lacks)."""
    fake = set(unrebuildable(extractor, {k.split(".", 1)[1] for o in outputs for k in metric_for(o).needs
                                         if k.startswith("fake.")}))
    for what, inputs in sets.items():
        lacking = sorted(fake - set(inputs)) if what != "reference" else []
        if not lacking:
            continue
        if what in finder.files:
            why = (f"its features file {finder.files[what].path.name} stores no such rows (record it again with "
                   "`genbench eval ... --save-features`)")
        elif any("prompts" in EXTRACTORS.get(extractor).provides[n].sources for n in lacking):
            why = "a paired comparison has no prompts (only rows stored in a features file stand in for them)"
        else:
            why = "the traits of this set and of the reference do not call for them"
        return (f"metric {', '.join(repr(n) for n in names)} cannot be paired: the {what} has no "
                f"{', '.join(describe_sources(extractor, n) for n in lacking)}: {why}")
    return None


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
        seed = protocol.config.seed if opts.seed is None else opts.seed  # never the baseline file's (#27)
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
