"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

Unbiased MMD² with the cubic polynomial kernel, averaged over seeded subsets; torch-fidelity conventions
(`metric_kid.kid_features_to_metric`): std over subsets with ddof=0. Maths in functional_kernel.
"""
from __future__ import annotations

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("kid")
class KID(Metric):
    name = "kid"
    outputs = ("kid",)
    higher_is_better = {"kid": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "mean over seeded subsets of unbiased MMD² with k(x,y)=(xᵀy/d+1)³; std over subsets"

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")
        mean, std, m = fn.kernel_inception_distance(fake, real, config.kid_subsets, config.kid_subset_size,
                                                    config.seed)
        return {"kid": MetricValue(mean, std, details={"subsets": config.kid_subsets, "subset_size": m})}
