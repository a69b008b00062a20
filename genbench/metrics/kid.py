"""Kernel distance (`kd`) and Kernel Inception Distance (`kid`) (Bińkowski et al. 2018, "Demystifying MMD
GANs").

Unbiased MMD² with the cubic polynomial kernel k(x,y) = (xᵀy/d + 1)³, averaged over seeded subsets;
torch-fidelity's estimator (`metric_kid.kid_features_to_metric`). Maths in functional.kernel.

Names and units: `kid` exists only on Inception features and is reported ×10³ (1000 × MMD², the
"KID×10³" of StyleGAN2-ADA's and most papers' tables; torch-fidelity and clean-fid print raw MMD²). The
same maths on any other extractor is `kd`, in raw MMD² (its features are not on Inception's scale).

Uncertainty: the value's std and 95% CI come from the bootstrap over the images of both sets (the
sampling uncertainty of the whole estimate). The standard deviation over subsets (torch-fidelity's
`kid_std`) measures how much one subset's estimate varies, not the uncertainty of their mean, so it is
kept in details as `subset_std` and never reported as the value's std.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from genbench.errors import ConfigError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.inception_only import inception_only_reason

KID_SCALE = 1000.0  # kid is reported ×10³


@METRICS.register("kd")
class KD(Metric):
    name = "kd"
    outputs: ClassVar[tuple[str, ...]] = ("kd",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"kd": False}
    needs = ("fake.embedding", "real.embedding")
    definition = ("mean over seeded subsets of unbiased MMD² with k(x,y)=(xᵀy/d+1)³ on the protocol's "
                  "features (raw MMD²); subset spread in details.subset_std")
    matches = ("torch-fidelity metric_kid.kid_features_to_metric (unbiased MMD², cubic kernel, 100 subsets "
               "of 1,000); StyleGAN2-ADA kernel_inception_distance.py and clean-fid use the same estimator")
    differences: ClassVar[tuple[str, ...]] = (
        "subsets drawn with numpy default_rng: one run differs from torch-fidelity's within subset_std",
        "± is the bootstrap over images; the per-subset spread (torch-fidelity's kid_std) is details.subset_std",
    )
    scale: ClassVar[float] = 1.0
    unit: ClassVar[str | None] = None

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
        details = {"subsets": p.subsets, "subset_size": m, "subset_std": self.scale * std}
        if self.unit:
            details["unit"] = self.unit
        return {self.outputs[0]: MetricValue(self.scale * mean, details=details)}


@METRICS.register("kid")
class KID(KD):
    name = "kid"
    outputs: ClassVar[tuple[str, ...]] = ("kid",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"kid": False}
    definition = "kd on Inception pool3 features, reported ×10³ (1000 × unbiased MMD²)"
    differences = ("reported ×10³ (1000 × MMD²); torch-fidelity, clean-fid and StyleGAN2-ADA print raw MMD²",
                   "only on Inception features (inception-v3-tf, inception-v3-clean); elsewhere: kd",
                   *KD.differences)
    units: ClassVar[Mapping[str, str]] = {"kid": "×10³"}
    scale = KID_SCALE
    unit = "×10³"

    def available(self, inputs: MetricInputs) -> str | None:
        return inception_only_reason(self.name, "kd", inputs) or super().available(inputs)
