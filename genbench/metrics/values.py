"""The vocabulary shared by metrics and the bootstrap wrapper: values, run-wide settings, inputs.

Kept apart from base.py so that bootstrap.py (which base.py calls) imports nothing from base.py.

Input keys are "<set>.<what>":
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
  statistics of the embedding (a reference-statistics file may carry only these, no rows):
         mean (float64 [D]), cov (float64 [D, D], N−1 normalisation), cov_sqrt (float64 [D, D], the
         symmetric PSD square root of cov; optional), n (int, the row count behind mean/cov)
  plus context values: "dataset" (reference dataset name or None), "extractor" (name).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from genbench.errors import ConfigError, MissingInputError
from genbench.seeding import check_seed

STAT_KEYS = ("mean", "cov", "cov_sqrt", "n")  # per-set summaries of <set>.embedding, not row arrays


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
    """Run-wide settings only; each metric's own knobs live in its `Params` (see Metric.Params)."""

    seed: int = 0
    bootstrap: int = 200  # B; 0 turns confidence intervals off
    device: str = "cpu"
    tile_size: int = 2048  # rows per tile for nearest-neighbour computations
    distance_dtype: str = "float64"

    def __post_init__(self) -> None:
        check_seed(self.seed, "metric seed")
        if isinstance(self.bootstrap, bool) or not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise ConfigError(f"bootstrap must be an int >= 0, got {self.bootstrap!r}")

    def with_(self, **kw: Any) -> "MetricConfig":
        return replace(self, **kw)


def as_value(v: float | MetricValue) -> MetricValue:
    return v if isinstance(v, MetricValue) else MetricValue(float(v))


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
        """Row-resampled view: index maps a set name ("fake", "real", ...) to row indices.

        The statistics of a resampled set (<set>.mean, .cov, .cov_sqrt, .n) describe the original rows,
        so they are dropped from the view: a metric then recomputes them from the resampled rows.
        """
        arrays: dict[str, Any] = {}
        for key in self._arrays:
            set_name, _, what = key.partition(".")
            if set_name in index:  # lazy: only the inputs a metric reads are resampled (or loaded)
                if what not in STAT_KEYS:
                    arrays[key] = lambda k=key, idx=index[set_name]: self.get(k)[idx]
            else:
                arrays[key] = lambda k=key: self.get(k)
        return MetricInputs(arrays, self.context)
