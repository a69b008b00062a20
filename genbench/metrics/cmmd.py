"""CMMD (Jayasumana et al. 2024, "Rethinking FID: Towards a Better Evaluation Metric for Image Generation").

1000 × unbiased MMD² with a Gaussian kernel (σ = Params.sigma = 10) between CLIP image embeddings;
tiled kernel sums. See functional_kernel for the estimator and how it differs from the authors' code.
"""
from __future__ import annotations

from dataclasses import dataclass

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.knn import Tiling


@METRICS.register("cmmd")
class CMMD(Metric):
    name = "cmmd"
    outputs = ("cmmd",)
    higher_is_better = {"cmmd": False}
    needs = ("fake.clip", "real.clip")
    definition = "1000 × unbiased MMD² of CLIP image embeddings, Gaussian kernel σ=10"

    @dataclass(frozen=True)
    class Params:
        sigma: float = 10.0

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        sigma = self.params.sigma
        value = fn.cmmd(inputs.get("fake.clip"), inputs.get("real.clip"), sigma, Tiling.from_config(config))
        return {"cmmd": MetricValue(value, details={"sigma": sigma})}
