"""Mode-collapse report (`modes`): whichever of three diagnostics the inputs allow.

- 2-D mixtures (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): fake.points with context
  dataset toy2d-ring8 / toy2d-grid25 -> modes_captured (+ modes_captured_raw), high_quality_fraction,
  reverse_kl.
- Classes: fake.class_probs (+ real.class_probs) -> classes_covered (significant given the digits
  classifier's measured confusion), classes_hit_raw (>= 1 sample, the literature's count), class_kl,
  class_hist_p (G-test of the class histograms against the reference).
- Stacked digits (VEEGAN's Stacked MNIST): fake.channel_classes -> stacked_modes_captured (significant),
  stacked_modes_raw, stacked_kl.
Definitions (3σ rule, significance test, KL directions, smoothing) in genbench.metrics.functional.modes.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.data.builtin import mixture_names, toy2d_modes
from genbench.errors import MissingInputError, WeightsError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.functional.class_shares import ShareChange, class_counts, share_change
from genbench.metrics.functional.modes import ALPHA

TOY2D = mixture_names()  # datasets with the trait "mode-mixture"
CLASSIFIER_RECORD = Path(__file__).resolve().parent.parent / "assets" / "digits_classifier.json"


@functools.lru_cache(maxsize=1)
def classifier_confusion() -> tuple[np.ndarray, np.ndarray]:
    """(confusion counts [10 true, 10 pred], other-class rate [10]) of the shipped digits classifier."""
    try:
        rec = json.loads(CLASSIFIER_RECORD.read_text())
        return np.asarray(rec["confusion"], dtype=np.int64), np.asarray(rec["other_class_rate"], dtype=np.float64)
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise WeightsError(f"{CLASSIFIER_RECORD}: no measured confusion ({e}); run "
                           "scripts/train_digits_classifier.py --confusion-only") from None


def _significance(alpha: float) -> dict:
    return {"test": "one-sided binomial vs the other-class rate (digits-test)", "alpha": alpha}


@METRICS.register("modes")
class Modes(Metric):
    name = "modes"
    outputs = ("modes_captured", "modes_captured_raw", "high_quality_fraction", "reverse_kl", "classes_covered",
               "classes_hit_raw", "class_kl", "class_hist_p", "class_share", "stacked_modes_captured",
               "stacked_modes_raw", "stacked_kl")
    higher_is_better = {"modes_captured": True, "modes_captured_raw": True, "high_quality_fraction": True,
                        "reverse_kl": False, "classes_covered": True, "classes_hit_raw": True, "class_kl": False,
                        "class_hist_p": True, "class_share": True, "stacked_modes_captured": True,
                        "stacked_modes_raw": True, "stacked_kl": False}
    needs = ("fake.points", "fake.class_probs", "fake.channel_classes")  # alternatives; see available()
    definition = ("modes / classes covered (significant given the classifier's confusion, and raw), KL, "
                  "class-histogram G-test; 2-D mixtures, classes, stacked digits")
    bootstrap_sets = ()  # a resample holds ~63% distinct samples, so counts of modes captured would drop
    direct_comparisons = ("class_share",)  # exact interval from the two sets' class counts
    domains = {"class_share": (-1.0, float("inf"))}
    min_samples = 1

    @dataclass(frozen=True)
    class Params:
        alpha: float = ALPHA  # per class / mode, one-sided binomial test against the confusion rate

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
            out.update(self._classes(inputs))
        if inputs.has("fake.channel_classes"):
            res = fn.stacked_modes(inputs.get("fake.channel_classes"), classifier_confusion()[0], self.params.alpha)
            out["stacked_modes_captured"] = MetricValue(res["stacked_modes_captured"],
                                                        details=dict(_significance(self.params.alpha), of=1000))
            out["stacked_modes_raw"] = MetricValue(res["stacked_modes_raw"], details={"of": 1000})
            out["stacked_kl"] = res["stacked_kl"]
        return out

    def _classes(self, inputs: MetricInputs) -> dict[str, MetricValue]:
        real = inputs.get("real.class_probs") if inputs.has("real.class_probs") else None
        res = fn.class_coverage(inputs.get("fake.class_probs"), real, classifier_confusion()[1], self.params.alpha)
        of = {"of": res["num_classes"]}
        out = {"classes_covered": MetricValue(res["classes_covered"], details=dict(
                   _significance(self.params.alpha), of=res["num_classes"], counts=res["class_counts"])),
               "classes_hit_raw": MetricValue(res["classes_hit_raw"], details=dict(of, rule=">= 1 sample"))}
        if "class_kl" in res:
            out["class_kl"] = MetricValue(res["class_kl"], details={"smoothing": "laplace+1 on real"})
            out["class_hist_p"] = MetricValue(res["class_hist_p"], details={"test": "G-test of homogeneity",
                                                                            "g": res["class_hist_g"]})
            out["class_share"] = _share_value(np.asarray(res["class_counts"], dtype=np.float64),
                                              class_counts(real), "reference")
        return out

    def compare_sets(self, output: str, a: MetricInputs, b: MetricInputs) -> MetricValue:
        if output != "class_share":
            return super().compare_sets(output, a, b)
        counts = [class_counts(x.get("fake.class_probs")) for x in (a, b)]
        return _share_value(counts[0], counts[1], "baseline")

    def compare_recorded(self, output: str, a: MetricValue, b: MetricValue) -> MetricValue | None:
        counts = [v.details.get("counts") if output == "class_share" else None for v in (a, b)]
        if any(not isinstance(c, list) or not c for c in counts) or len(counts[0]) != len(counts[1]):
            return None
        return _share_value(np.asarray(counts[0], dtype=np.float64), np.asarray(counts[1], dtype=np.float64),
                            "baseline")

    def _mixture(self, inputs: MetricInputs) -> dict[str, MetricValue]:
        dataset = inputs.context["dataset"]
        centres, sigma = toy2d_modes(dataset)
        res = fn.mixture_modes(inputs.get("fake.points"), centres, sigma, self.params.alpha)
        info = {"dataset": dataset, "of": len(centres)}
        return {"modes_captured": MetricValue(res["modes_captured"], details=dict(
                    info, counts=res["mode_counts"], test="one-sided binomial vs the 3σ spill-over rate",
                    alpha=self.params.alpha)),
                "modes_captured_raw": MetricValue(res["modes_captured_raw"], details=info),
                "high_quality_fraction": MetricValue(res["high_quality_fraction"], details=info),
                "reverse_kl": MetricValue(res["reverse_kl"], details=info)}


def _share_value(a: np.ndarray, b: np.ndarray, against: str) -> MetricValue:
    """class_share of counts a [K] against counts b [K] (the `against` set) as a MetricValue."""
    c: ShareChange = share_change(a, b)
    return MetricValue(c.value, ci95=(c.lo, c.hi), details={
        "worst_class": c.worst, "share": c.share_a, f"{against}_share": c.share_b, "against": against,
        "classes": c.classes, "interval": f"exact simultaneous (Clopper-Pearson per class at alpha {c.alpha:g}/"
                                          f"{c.classes}, Bonferroni)", "counts": a.astype(int).tolist()})
