"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020).

k-NN manifolds computed by tiles (genbench.metrics.knn), never an N × N matrix. Bootstrap replicates come
from row counts (genbench.metrics.functional.counts): radii and memberships of each replicate from
distances computed once, with a drawn duplicate at distance exactly 0. Precision/recall use
`<=` (ADM / StyleGAN code), density/coverage strict `<`; density and coverage equal
`prdc.compute_prdc`. Note: the bootstrap resamples with replacement, and a resampled duplicate is a
neighbour at distance 0, which shrinks k-NN radii; the intervals are therefore somewhat conservative
for precision and coverage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from genbench.metrics import functional as fn
from genbench.metrics.functional import counts
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.knn import Tiling


@METRICS.register("pr")
class PrecisionRecall(Metric):
    name = "pr"
    outputs = ("precision", "recall")
    higher_is_better = {"precision": True, "recall": True}
    needs = ("fake.embedding", "real.embedding")
    count_replicates = ("precision", "recall")
    domains = {"precision": (0.0, 1.0), "recall": (0.0, 1.0)}
    definition = "fraction of fakes inside the real k-NN manifold (<=), and of reals inside the fake one; k=3"
    matches = "ADM evaluations/evaluator.py ManifoldEstimator and StyleGAN2-ADA precision_recall.py (k = 3, <=)"
    differences = ("prdc's compute_prdc uses strict < for precision and recall",)

    @dataclass(frozen=True)
    class Params:
        k: int = 3

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        k = self.params.k
        self.check_samples(inputs, k + 1)
        p, r = fn.precision_recall(inputs.get("real.embedding"), inputs.get("fake.embedding"), k,
                                   Tiling.from_config(config))
        return {"precision": MetricValue(p, details={"k": k}), "recall": MetricValue(r, details={"k": k})}

    def count_values(self, outputs: Sequence[str], fake: counts.Resample, real: counts.Resample,
                     config: MetricConfig) -> dict[str, float]:
        """Precision / recall of one replicate of each set from row counts (functional.counts)."""
        of = {"precision": counts.precision, "recall": counts.recall}
        return {o: of[o](fake, real, self.params.k) for o in outputs}


@METRICS.register("dc")
class DensityCoverage(Metric):
    name = "dc"
    outputs = ("density", "coverage")
    higher_is_better = {"density": True, "coverage": True}
    needs = ("fake.embedding", "real.embedding")
    definition = "density: mean #real k-NN balls (<) holding a fake / k; coverage: reals whose ball holds a fake"
    matches = "prdc compute_prdc (Naeem et al. 2020; k = 5, strict <)"
    count_replicates = ("density", "coverage")
    domains = {"density": (0.0, float("inf")), "coverage": (0.0, 1.0)}

    @dataclass(frozen=True)
    class Params:
        k: int = 5

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        k = self.params.k
        self.check_samples(inputs, k + 1, keys=("real.embedding",))
        d, c = fn.density_coverage(inputs.get("real.embedding"), inputs.get("fake.embedding"), k,
                                   Tiling.from_config(config))
        return {"density": MetricValue(d, details={"k": k}), "coverage": MetricValue(c, details={"k": k})}

    def count_values(self, outputs: Sequence[str], fake: counts.Resample, real: counts.Resample,
                     config: MetricConfig) -> dict[str, float]:
        """Density / coverage of one replicate of each set from row counts (functional.counts)."""
        of = {"density": counts.density, "coverage": counts.coverage}
        return {o: of[o](fake, real, self.params.k) for o in outputs}
