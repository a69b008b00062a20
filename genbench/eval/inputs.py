"""Gather the inputs metrics need for one feature space, from any kind of set, knowing no names.

A set is a SetSource: decoded images (SampleSet, features extracted or read from the cache), a reference
statistics file (RefStats), precomputed features (PrecomputedFeatures) or a 2-D point set. Each offers, for
one extractor, the keys it can provide without doing any work (`keys`), so what is computable is known
before anything is decoded or extracted. Values are lazy callables evaluated on first use.

Keys per set ("fake", "real", "train", "heldout"):
  <set>.<role>      float32 [N, D]: the extractor's outputs ("embedding", "logits", ...)
  <set>.mean        float64 [D]     mean of the embedding        } from the feature cache, a statistics
  <set>.cov         float64 [D, D]  covariance (N-1)             } file, or computed once from features
  <set>.n           int             rows behind mean/cov         }
  <set>.cov_sqrt    float64 [D, D]  PSD square root of cov (statistics files only)
  <set>.images      uint8 [N, 3, H, W];  <set>.labels int64 [N];  <set>.points float64 [N, 2]
  plus every derived input the extractor declares (ExtractorSpec.provides), when its sources exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from genbench.errors import InputError
from genbench.features.base import EXTRACTORS, Derived, FeatureExtractor
from genbench.features.cache import FeatureCache, cache_key
from genbench.refs.stats import PrecomputedFeatures, RefStats, mean_cov
from genbench.protocols import POINTS  # the pseudo feature space of 2-D point sets
from genbench.sets.samples import SampleSet

MAX_DECODE_BYTES = 4 << 30  # image sets up to 4 GiB of uint8 are decoded once and held in memory


@dataclass(frozen=True)
class ExtractOptions:
    batch_size: int = 64
    progress: bool = False


def _with_stats(feats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    mean, cov = mean_cov(feats["embedding"])
    return dict(feats, stats_mean=mean, stats_cov=cov)


def features_key(fingerprint: str, n: int, extractor: "FeatureExtractor | ExtractorHandle") -> str:
    """The feature-cache key of one set's features: its sample fingerprint, its N and the extractor's cache
    identity (a handle gives it without building the network). The one place the key is put together."""
    return cache_key(fingerprint, n, extractor.cache_identity())


def cached_features(extractor: "FeatureExtractor | ExtractorHandle", samples: SampleSet, cache: FeatureCache,
                    opts: ExtractOptions) -> dict[str, np.ndarray]:
    """Features for every output role of `extractor` (float32 [N, D]) plus stats_mean/stats_cov (float64)
    of the embedding, from the cache; on a miss the network is built (a handle builds it at most once),
    run, and its outputs cached. The one cache-aware path from a set to its features."""
    from genbench.features.extract import extract

    def compute() -> dict[str, np.ndarray]:
        net = extractor.get() if isinstance(extractor, ExtractorHandle) else extractor
        return _with_stats(extract(net, samples, batch_size=opts.batch_size, progress=opts.progress))

    return cache.get_or_compute(features_key(samples.fingerprint, len(samples), extractor), compute)


def decode_once(samples: SampleSet, max_bytes: int, progress: bool = False) -> SampleSet:
    """The same set held in memory: decoded once (with a progress bar), then read by every consumer.

    Sets larger than max_bytes stay streamed (each consumer decodes again) to bound memory.
    """
    from genbench.progress import bar as progress_bar

    size = len(samples) * int(np.prod(samples.item_shape)) * (1 if samples.kind == "images" else 8)
    if size > max_bytes or getattr(samples, "_decoded", False):
        return samples
    parts, step = [], 256
    with progress_bar(total=len(samples), desc=f"decode {samples.source}"[:60], unit="img", enabled=progress) as bar:
        for i in range(0, len(samples), step):
            parts.append(samples.read(i, i + step))
            bar.update(len(parts[-1]))
    data = np.ascontiguousarray(np.concatenate(parts))  # [N, 3, H, W] uint8 (or [N, 2] float64)
    out = SampleSet(len(data), lambda a, b: data[a:b], kind=samples.kind, shape=samples.item_shape,
                    source=samples.source, labels=samples.labels, manifest=samples.manifest, dataset=samples.dataset)
    out._decoded = True  # type: ignore[attr-defined]
    return out


class ExtractorHandle:
    """One extractor of an evaluation: its identity without building it, and the network built at most once."""

    def __init__(self, name: str, build: Callable[[], FeatureExtractor], identity: Any | None) -> None:
        self.name, self._build, self.identity = name, build, identity
        self._ext: FeatureExtractor | None = None

    @property
    def built(self) -> bool:
        return self._ext is not None

    def get(self) -> FeatureExtractor:
        if self._ext is None:
            self._ext = self._build()
            if self.identity is None:
                self.identity = self._ext
        return self._ext

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.identity.outputs if self.identity is not None else self.get().outputs)

    def cache_identity(self) -> dict:
        return (self.identity or self.get()).cache_identity()

    def record(self) -> dict:
        if self._ext is not None:
            return self._ext.record()
        i, w = self.identity, self.identity.weights
        return {"extractor": i.name, "extractor_version": i.version, "preprocess": i.preprocess,
                "weights": w.name, "weights_sha256": w.sha256, "weights_verified": w.verified}


# ---- set sources ---------------------------------------------------------------------------------
class SetSource:
    """What one set can provide for one extractor: `keys` (no work) and lazy `values`."""

    n: int
    traits: frozenset[str] = frozenset()
    labels: np.ndarray | None = None

    def unsupported(self, handle: ExtractorHandle | None) -> str | None:
        """None if this set can feed the feature space, else why not."""
        return None

    def values(self, handle: ExtractorHandle | None) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    def _labels(self) -> dict[str, Any]:
        return {} if self.labels is None else {"labels": self.labels}


def manifest_traits(manifest: dict) -> frozenset[str]:
    """A set's declared traits, as its dataset or manifest lists them."""
    t = manifest.get("traits") or ()
    return frozenset(str(x) for x in t) if isinstance(t, (list, tuple)) else frozenset()


class ImageSource(SetSource):
    """A SampleSet of images: features from the cache or the network; one decode (see `materialise`)."""

    def __init__(self, samples: SampleSet, cache: FeatureCache, opts: ExtractOptions) -> None:
        self.samples, self.cache, self.opts = samples, cache, opts
        self.n, self.labels, self.traits = len(samples), samples.labels, manifest_traits(samples.manifest)
        self._feats: dict[str, dict[str, np.ndarray]] = {}

    def materialise(self, max_bytes: int) -> None:
        """Decode every image once into memory (unless over max_bytes); fingerprint and features read it."""
        self.samples = decode_once(self.samples, max_bytes, self.opts.progress)

    def features(self, handle: ExtractorHandle) -> dict[str, np.ndarray]:
        if handle.name not in self._feats:
            self._feats[handle.name] = cached_features(handle, self.samples, self.cache, self.opts)
        return self._feats[handle.name]

    def values(self, handle: ExtractorHandle | None) -> dict[str, Any]:
        out: dict[str, Any] = {"images": lambda: self.samples.load(), **self._labels()}
        if handle is None:
            return out
        for role in handle.outputs:
            out[role] = lambda r=role: self.features(handle)[r]
        out["mean"] = lambda: self.features(handle)["stats_mean"]
        out["cov"] = lambda: self.features(handle)["stats_cov"]
        out["n"] = self.n
        return out

    def unsupported(self, handle: ExtractorHandle | None) -> str | None:
        return f"{self.samples.source} is a set of images, not 2-D points" if handle is None else None

    def describe(self) -> dict:
        return self.samples.describe()


class PointSource(SetSource):
    def __init__(self, samples: SampleSet) -> None:
        self.samples, self.n, self.labels = samples, len(samples), samples.labels

    def unsupported(self, handle: ExtractorHandle | None) -> str | None:
        return None if handle is None else f"extractor {handle.name} needs images; {self.samples.source} is 2-D points"

    def values(self, handle: ExtractorHandle | None) -> dict[str, Any]:
        pts = self.samples.load  # float64 [N, 2]
        return {"points": lambda: pts(), "embedding": lambda: pts(), **self._labels()}

    def describe(self) -> dict:
        return self.samples.describe()


class StatsSource(SetSource):
    """A reference statistics file: mean/cov(/cov_sqrt) always; features, images, labels if it kept them."""

    def __init__(self, stats: RefStats) -> None:
        self.stats, self.n, self.labels = stats, (stats.n if stats.n > 0 else None), stats.labels
        self.traits = frozenset(stats.record.get("traits") or ())

    def unsupported(self, handle: ExtractorHandle | None) -> str | None:
        if handle is None or handle.name != self.stats.extractor:
            return (f"the statistics file {self.stats.path} holds {self.stats.extractor} features only, "
                    f"not {handle.name if handle else 'points'}")
        return None

    def values(self, handle: ExtractorHandle | None) -> dict[str, Any]:
        s = self.stats
        out: dict[str, Any] = {"mean": s.mu, "cov": s.sigma, "cov_sqrt": s.sigma_sqrt, "n": s.n,
                               **s.features, **self._labels()}
        if s.images is not None:
            out["images"] = s.images
        return out

    def describe(self) -> dict:
        return self.stats.describe()


class FeaturesSource(SetSource):
    def __init__(self, pre: PrecomputedFeatures) -> None:
        self.pre, self.n, self.labels, self.traits = pre, len(pre), pre.labels, frozenset(pre.traits)
        self._stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def unsupported(self, handle: ExtractorHandle | None) -> str | None:
        if handle is None or handle.name not in self.pre.features:
            return (f"{self.pre.source}: no precomputed {handle.name if handle else 'points'} features "
                    f"(has {', '.join(self.pre.features)})")
        return None

    def _mean_cov(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._stats:
            self._stats[name] = mean_cov(self.pre.features[name]["embedding"])
        return self._stats[name]

    def values(self, handle: ExtractorHandle | None) -> dict[str, Any]:
        feats = self.pre.features[handle.name]
        out: dict[str, Any] = {**feats, **self._labels()}
        if "embedding" in feats:
            out.update(mean=lambda: self._mean_cov(handle.name)[0], cov=lambda: self._mean_cov(handle.name)[1],
                       n=self.n)
        return out

    def describe(self) -> dict:
        return self.pre.describe()


def as_source(obj: Any, cache: FeatureCache, opts: ExtractOptions) -> SetSource:
    if isinstance(obj, RefStats):
        return StatsSource(obj)
    if isinstance(obj, PrecomputedFeatures):
        return FeaturesSource(obj)
    if obj.kind == "points":
        return PointSource(obj)
    return ImageSource(obj, cache, opts)


# ---- derived inputs ------------------------------------------------------------------------------
@dataclass
class DeriveContext:
    """What a Derived function may use for one set (see genbench.features.base.Derived)."""

    prefix: str
    get: Callable[[str], Any]  # MetricInputs.get
    handle: ExtractorHandle
    prompts: list[str] | None
    device: Any
    batch_size: int

    def role(self, name: str) -> np.ndarray:
        return self.get(f"{self.prefix}.{name}")

    def images(self) -> np.ndarray:
        return self.get(f"{self.prefix}.images")

    def extractor(self) -> FeatureExtractor:
        return self.handle.get()


def derivable(d: Derived, prefix: str, keys: set[str], traits: frozenset[str], prompts: Any) -> bool:
    """Whether `d` exists for set `prefix` under `traits`, with every source present (`keys`: "<set>.<key>")."""
    if d.sets is not None and prefix not in d.sets:
        return False
    if (d.when and d.when not in traits) or (d.unless and d.unless in traits):
        return False
    have = {"extractor": True, "prompts": prompts is not None}
    return all(have.get(s, f"{prefix}.{s}" in keys) for s in d.sources)


def space_arrays(sets: dict[str, SetSource], handle: ExtractorHandle | None, prompts: list[str] | None,
                 device: Any, batch_size: int, get: Callable[[str], Any]) -> dict[str, Any]:
    """Every lazy input of one feature space (None handle: the 2-D points space). `get` reads any key."""
    arrays: dict[str, Any] = {}
    for prefix, src in sets.items():
        if src.unsupported(handle) is None:
            arrays.update({f"{prefix}.{k}": v for k, v in src.values(handle).items()})
    if handle is None:
        return arrays
    traits = sets["real"].traits | sets["fake"].traits
    for name, d in EXTRACTORS.get(handle.name).provides.items():
        for prefix in sets:
            if derivable(d, prefix, set(arrays), traits, prompts):
                ctx = DeriveContext(prefix, get, handle, prompts, device, batch_size)
                arrays[f"{prefix}.{name}"] = lambda d=d, ctx=ctx: d.fn(ctx)
    return arrays


def row_inputs(extractor: str, raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A set's metric inputs from its feature rows alone (paired comparisons: the gate, ranks, the planner).

    The extractor's output roles as stored, plus every derived input it declares (ExtractorSpec.provides)
    whose sources are output roles present in `raw` (class_probs from logits, clip from the embedding),
    derived by the same functions as in an evaluation. Inputs that need the images, the network or the
    prompts (channel_classes, text) cannot come from rows: genbench.eval.derived_rows derives them from a
    set's images, and a features file stores their rows. Set traits are not known here, so `when` /
    `unless` conditions are not applied.
    """
    spec = EXTRACTORS.get(extractor)
    out = {k: v for k, v in raw.items() if k in spec.outputs}
    ctx = DeriveContext("set", lambda key: out[key.split(".", 1)[1]], None, None, "cpu", 64)  # type: ignore[arg-type]
    for name, d in spec.provides.items():
        if all(s in out for s in d.sources):  # "images", "extractor", "prompts" are never rows
            out[name] = d.fn(ctx)
    return out


def row_sources(extractor: str, inputs: Iterable[str]) -> set[str]:
    """The output roles behind metric inputs (`class_probs` -> `logits`). Inputs that cannot come from
    feature rows (see row_inputs), such as a metric's alternatives for other sets, add nothing."""
    spec = EXTRACTORS.get(extractor)
    out: set[str] = set()
    for name in inputs:
        if name in spec.outputs:
            out.add(name)
        elif name in spec.provides and set(spec.provides[name].sources) <= set(spec.outputs):
            out.update(spec.provides[name].sources)
    return out


def check_prompts(prompts: list[str] | None, n: int) -> None:
    if prompts is not None and len(prompts) != n:
        raise InputError(f"--prompts: {len(prompts)} prompts for {n} samples; give one prompt per image")
