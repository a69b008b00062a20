"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

Unbiased MMD² with the cubic polynomial kernel, averaged over seeded subsets; torch-fidelity conventions
(`metric_kid.kid_features_to_metric`): std over subsets with ddof=0. Maths in functional_kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

from genbench.errors import ConfigError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("kid")
class KID(Metric):
    name = "kid"
    outputs = ("kid",)
    higher_is_better = {"kid": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "mean over seeded subsets of unbiased MMD² with k(x,y)=(xᵀy/d+1)³; std over subsets"

    @dataclass(frozen=True)
    class Params:
        subsets: int = 100
        subset_size: int = 1000  # capped at the smaller set's size

        def __post_init__(self) -> None:
            if self.subsets < 1 or self.subset_size < 2:
                raise ConfigError(f"kid: need subsets >= 1 and subset_size >= 2, got {self}")

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")
        p = self.params
        mean, std, m = fn.kernel_inception_distance(fake, real, p.subsets, p.subset_size, config.seed)
        return {"kid": MetricValue(mean, std, details={"subsets": p.subsets, "subset_size": m})}
