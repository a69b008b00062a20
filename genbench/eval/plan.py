"""What an evaluation was asked for: metric names (families or outputs) and statistics-file references.

`--metrics` accepts family names (`pr`, `dc`, `modes`) and output names (`precision`, `coverage`,
`classes_covered`, `fd_inf`, ...), as users type them after reading a result table. An output name runs
its family and reports only the outputs asked for.

A reference statistics file holds one feature space. For a protocol with several spaces, `genbench ref`
writes the first space's statistics at --out and each other space's beside it as <stem>.<extractor>.npz
(e.g. digits-test.ref.npz and digits-test.ref.pixels.npz); evaluation finds them the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from genbench.errors import ConfigError, InputError, UnknownNameError
from genbench.metrics import METRICS, load_all
from genbench.registry import suggest


@dataclass(frozen=True)
class MetricRequest:
    families: list[str] | None  # None: the protocol's; ["all"]: every metric
    outputs: dict[str, frozenset[str]] = field(default_factory=dict)  # family -> outputs kept (absent: all)
    explicit: bool = False

    def keeps(self, family: str, output: str) -> bool:
        return family not in self.outputs or output in self.outputs[family]


def output_families() -> dict[str, list[str]]:
    """Output name -> the metric families that produce it."""
    load_all()
    out: dict[str, list[str]] = {}
    for fam, cls in METRICS.items():
        for o in cls.outputs:
            out.setdefault(o, []).append(fam)
    return out


def metric_request(metrics: Sequence[str] | str | None) -> MetricRequest:
    if metrics is None:
        return MetricRequest(None)
    names = [m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if not names:
        raise ConfigError("--metrics: empty list")
    if names == ["all"]:
        return MetricRequest(["all"])
    load_all()
    by_output = output_families()
    families: list[str] = []
    whole: set[str] = set()
    outputs: dict[str, set[str]] = {}
    for n in names:
        if n in METRICS:
            fams, whole = [n], whole | {n}
        elif n in by_output:
            fams = by_output[n]
            for f in fams:
                outputs.setdefault(f, set()).add(n)
        else:
            close = suggest(n, METRICS.names() + list(by_output))  # a family may also be an output: once each
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(f"--metrics: unknown metric {n!r}{hint} (families: {', '.join(METRICS.names())}; "
                                   "output names such as precision, recall, coverage are accepted too)")
        families += [f for f in fams if f not in families]
    kept = {f: frozenset(o) for f, o in outputs.items() if f not in whole}
    return MetricRequest(families, kept, explicit=True)


def sibling_path(path: str | Path, extractor: str) -> Path:
    """Where `genbench ref` writes a protocol's statistics for another extractor than the first."""
    p = Path(path)
    stem = p.name[:-4] if p.name.endswith(".npz") else p.name
    return p.with_name(f"{stem}.{extractor}.npz")


def open_reference(spec: Any):
    """A RefStats for a statistics file (or RefStats), else None (then spec is a sample set)."""
    from genbench.refs.stats import RefStats, is_stats_file

    if isinstance(spec, RefStats):
        return spec
    return RefStats.load(spec) if is_stats_file(spec) else None


def space_reference(real: Any, space: Any, handle: Any):
    """For a statistics-file reference: the RefStats of this space, a skip reason (str), or None otherwise.

    Statistics made under another extractor, version, preprocessing or weights are refused (ConfigError).
    """
    from genbench.refs.stats import RefStats

    if not isinstance(real, RefStats):
        return None
    if handle is None:
        return f"the statistics file {real.path} holds {real.extractor} features, not 2-D points"
    stats = real
    if real.extractor != space.extractor:
        sib = sibling_path(real.path or "ref.npz", space.extractor) if real.path else None
        if sib is None or not sib.is_file():
            if space.optional:
                return f"no {space.extractor} statistics beside {real.path} (expected {sib})"
            raise ConfigError(f"--ref {real.path}: statistics were made with extractor {real.extractor!r}, but this "
                              f"evaluation uses extractor {space.extractor!r} (and there is no {sib}); make them "
                              f"with `genbench ref SOURCE --extractor {space.extractor}` or `--protocol`")
        stats = RefStats.load(sib)
    ident = handle.identity if handle.identity is not None else handle.get()
    stats.check_extractor(ident.name, ident.version, ident.preprocess, ident.weights.sha256)
    from genbench.features.base import extractor_class

    cls = extractor_class(ident.name)
    dim = cls.dims.get("embedding") if cls is not None else None
    if dim is not None and dim != stats.dim:
        raise ConfigError(f"--ref {stats.path}: {stats.dim}-d statistics, but {ident.name} features are {dim}-d")
    return stats


def check_weights_names(weights: dict[str, Any]) -> None:
    """An unknown extractor in --weights NAME=PATH is an error (with a "did you mean"), not ignored."""
    from genbench.features import EXTRACTORS, load_all as load_extractors

    load_extractors()
    for n in weights:
        EXTRACTORS.get(n)


def extractor_handle(name: str, dev: Any, weights: dict[str, Any], allow_unverified: bool):
    """An ExtractorHandle: identity resolved now (weights checked, never hashed twice), network built lazily."""
    from genbench.features.extract import build_extractor
    from genbench.features.identity import extractor_identity
    from genbench.eval.inputs import ExtractorHandle

    path = weights.get(name)
    identity = extractor_identity(name, path, allow_unverified)
    return ExtractorHandle(name, lambda: build_extractor(name, device=str(dev), weights_path=path,
                                                         allow_unverified=allow_unverified), identity)


SIZE_BOUND = ("pixels",)  # extractors that keep the input size (no resize): their features need equal sizes


def check_image_sizes(fake: Any, real: Any, spaces: Sequence[Any]) -> None:
    """Before any work: samples and reference of different image sizes cannot share a space that keeps the
    size (raw pixels: 3x32x32 = 3072 features against 3x8x8 = 192). InputError saying so and what to do."""
    shapes = [tuple(getattr(s, "item_shape", ()) or ()) for s in (fake, real)]
    if any(getattr(s, "kind", "images") != "images" for s in (fake, real)) or not all(shapes):
        return
    if shapes[0] == shapes[1]:
        return
    bound = [s for s in spaces if getattr(s, "extractor", None) in SIZE_BOUND]
    if not bound:
        return
    (_, h, w), (_, rh, rw) = shapes
    names = ", ".join(m + s.suffix for s in bound for m in s.metrics)
    raise InputError(f"--samples are {h}x{w} images but --ref is {rh}x{rw}: the {bound[0].extractor} space "
                     f"({names}) compares raw pixels, so both must have the same size: resize the samples to "
                     f"{rh}x{rw} (or the reference to {h}x{w}), or leave that space out with --metrics")
