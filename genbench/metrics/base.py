"""Metric base class, inputs vocabulary, configuration and the metric registry.

A metric is pure maths over inputs the evaluator gathers. Input keys are "<set>.<what>":
  sets:  fake (the samples), real (the reference), train (training split, for copy detection),
         heldout (a held-out split, for C_T)
  what:  embedding (float32 [N, D] from the protocol's extractor), logits (float32 [N, C], classifier
         extractors only), images (uint8 [N, 3, H, W]), points (float64 [N, 2]), labels (int64 [N]),
         clip (float32 [N, 512] L2-normalised CLIP image embeddings), text (float32 [N, 512]
         L2-normalised CLIP text embeddings of the fake set's prompts), class_probs (float64 [N, K]
         from the digits classifier, per image), channel_classes (int64 [N, 3]: the digits classifier's
         label of each channel, stacked digits only)
         text_hessel (like text, but the prompts were encoded with the "A photo depicts " prefix of
         Hessel et al. 2021; see genbench.metrics.clip_score.HESSEL_PREFIX)
  plus context values: "dataset" (reference dataset name or None), "extractor" (name).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Mapping

import numpy as np

from genbench.errors import MissingInputError, NotEnoughSamplesError
from genbench.registry import Registry


@dataclass(frozen=True)
class MetricValue:
    value: float
    std: float | None = None
    ci95: tuple[float, float] | None = None
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        out = {"value": float(self.value), "std": None if self.std is None else float(self.std),
               "ci95": None if self.ci95 is None else [float(self.ci95[0]), float(self.ci95[1])]}
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class MetricConfig:
    """Every knob a metric reads. Defaults are PROTOCOLS.md's; a protocol preset may override them."""

    seed: int = 0
    bootstrap: int = 200  # B; 0 turns confidence intervals off
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    pr_k: int = 3
    dc_k: int = 5
    ssim_pairs: int = 1000
    ndb_bins: int = 100
    birthday_sizes: tuple[int, ...] = (16, 32, 64, 128)
    fd_inf_points: int = 5
    tile_size: int = 2048  # rows per tile for nearest-neighbour computations
    distance_dtype: str = "float64"
    device: str = "cpu"
    cmmd_sigma: float = 10.0

    def with_(self, **kw: Any) -> "MetricConfig":
        return replace(self, **kw)


SET_LEVEL = ("mean", "cov", "cov_sqrt", "n")  # per-set statistics, not rows (genbench.inputs)


class MetricInputs:
    """Lazy access to the arrays a metric needs. `get` raises MissingInputError naming what is missing."""

    def __init__(self, arrays: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> None:
        self._arrays = dict(arrays)
        self.context = dict(context or {})

    def get(self, key: str) -> Any:
        if key not in self._arrays:
            raise MissingInputError(f"input {key!r} is not available")
        v = self._arrays[key]
        if callable(v):
            v = v()
            self._arrays[key] = v
        return v

    def has(self, key: str) -> bool:
        return key in self._arrays

    def keys(self) -> list[str]:
        return list(self._arrays)

    def subset(self, index: Mapping[str, np.ndarray]) -> "MetricInputs":
        """Row-resampled view: index maps a set name ("fake", "real", ...) to row indices."""
        arrays: dict[str, Any] = {}
        for key in self._arrays:
            set_name, _, what = key.partition(".")
            if set_name in index and what in SET_LEVEL:
                continue  # statistics of the whole set do not describe a resample
            if set_name in index:  # lazy: only the inputs a metric reads are resampled (or loaded)
                arrays[key] = lambda k=key, idx=index[set_name]: self.get(k)[idx]
            else:
                arrays[key] = lambda k=key: self.get(k)
        return MetricInputs(arrays, self.context)


class Metric(abc.ABC):
    """Set-level metric. Subclasses implement `point`; `compute` adds bootstrap std and 95% CI."""

    name: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]]  # result names, e.g. ("precision", "recall")
    higher_is_better: ClassVar[Mapping[str, bool | None]]  # per output; None = no direction (diagnostic)
    needs: ClassVar[tuple[str, ...]]  # input keys, e.g. ("fake.embedding", "real.embedding")
    version: ClassVar[str] = "1"
    definition: ClassVar[str] = ""
    bootstrap_sets: ClassVar[tuple[str, ...]] = ("fake", "real")  # () = no bootstrap (diagnostics)
    paired: ClassVar[bool] = False  # True: row i of every bootstrap set belongs together; resample one index
    min_samples: ClassVar[int] = 2

    def available(self, inputs: MetricInputs) -> str | None:
        """None if computable, else the reason it is skipped."""
        missing = [k for k in self.needs if not inputs.has(k)]
        return f"needs {', '.join(missing)}" if missing else None

    def check_samples(self, inputs: MetricInputs, minimum: int | None = None,
                      keys: tuple[str, ...] | None = None) -> None:
        """Raise NotEnoughSamplesError (naming the metric and the row counts) if a needed array is too short."""
        need = self.min_samples if minimum is None else minimum
        counts = {k: len(inputs.get(k)) for k in (self.needs if keys is None else keys) if inputs.has(k)}
        if any(n < need for n in counts.values()):
            got = ", ".join(f"{k}={n}" for k, n in counts.items())
            raise NotEnoughSamplesError(f"metric {self.name!r} needs at least {need} samples per set; got {got}")

    @abc.abstractmethod
    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        """The metric on the full sets: {output: value} (a MetricValue where it has its own std)."""

    def compute(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, MetricValue]:
        from genbench.metrics.bootstrap import bootstrap_values

        self.check_samples(inputs)
        point = {k: v if isinstance(v, MetricValue) else MetricValue(float(v)) for k, v in
                 self.point(inputs, config).items()}
        if config.bootstrap <= 0 or not self.bootstrap_sets:
            return point
        return bootstrap_values(self, inputs, config, point)


METRICS: Registry[type[Metric]] = Registry("metric")
