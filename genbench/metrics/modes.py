"""Mode-collapse report (`modes`): whichever of three diagnostics the inputs allow.

- 2-D mixtures (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): fake.points with context
  dataset toy2d-ring8 / toy2d-grid25 -> modes_captured, high_quality_fraction, reverse_kl.
- Classes covered: fake.class_probs (+ real.class_probs for class_kl) -> classes_covered, class_kl.
- Stacked digits (VEEGAN's Stacked MNIST): fake.channel_classes -> stacked_modes_captured, stacked_kl.
Definitions (3σ rule, KL directions, smoothing) in genbench.metrics.functional_modes.
"""
from __future__ import annotations

from genbench.data.builtin import toy2d_modes
from genbench.errors import MissingInputError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue

TOY2D = ("toy2d-ring8", "toy2d-grid25")


@METRICS.register("modes")
class Modes(Metric):
    name = "modes"
    outputs = ("modes_captured", "high_quality_fraction", "reverse_kl", "classes_covered", "class_kl",
               "stacked_modes_captured", "stacked_kl")
    higher_is_better = {"modes_captured": True, "high_quality_fraction": True, "reverse_kl": False,
                        "classes_covered": True, "class_kl": False, "stacked_modes_captured": True,
                        "stacked_kl": False}
    needs = ("fake.points", "fake.class_probs", "fake.channel_classes")  # alternatives; see available()
    definition = "modes captured / high-quality fraction / KL for 2-D mixtures, classes, stacked digits"
    bootstrap_sets = ()  # a resample holds ~63% distinct samples, so counts of modes captured would drop
    min_samples = 1

    def _has_points(self, inputs: MetricInputs) -> bool:
        return inputs.has("fake.points") and inputs.context.get("dataset") in TOY2D

    def available(self, inputs: MetricInputs) -> str | None:
        if self._has_points(inputs) or inputs.has("fake.class_probs") or inputs.has("fake.channel_classes"):
            return None
        return (f"needs fake.points with dataset in {TOY2D}, fake.class_probs, or fake.channel_classes")

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        if self.available(inputs) is not None:
            raise MissingInputError(f"metric 'modes' {self.available(inputs)}")
        out: dict[str, float | MetricValue] = {}
        if self._has_points(inputs):
            out.update(self._mixture(inputs))
        if inputs.has("fake.class_probs"):
            real = inputs.get("real.class_probs") if inputs.has("real.class_probs") else None
            res = fn.class_coverage(inputs.get("fake.class_probs"), real)
            out["classes_covered"] = MetricValue(res["classes_covered"], details={"of": res["num_classes"]})
            if "class_kl" in res:
                out["class_kl"] = MetricValue(res["class_kl"], details={"smoothing": "laplace+1 on real"})
        if inputs.has("fake.channel_classes"):
            res = fn.stacked_modes(inputs.get("fake.channel_classes"))
            out["stacked_modes_captured"] = MetricValue(res["stacked_modes_captured"], details={"of": 1000})
            out["stacked_kl"] = res["stacked_kl"]
        return out

    @staticmethod
    def _mixture(inputs: MetricInputs) -> dict[str, MetricValue]:
        dataset = inputs.context["dataset"]
        centres, sigma = toy2d_modes(dataset)
        res = fn.mixture_modes(inputs.get("fake.points"), centres, sigma)
        info = {"dataset": dataset, "of": len(centres)}
        return {"modes_captured": MetricValue(res["modes_captured"], details=dict(info, counts=res["mode_counts"])),
                "high_quality_fraction": MetricValue(res["high_quality_fraction"], details=info),
                "reverse_kl": MetricValue(res["reverse_kl"], details=info)}
