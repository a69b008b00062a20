"""Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning").

exp(entropy) of the eigenvalues of K/n, K the cosine kernel on fake.embedding; overall and, where labels
exist (fake.labels, else argmax of fake.class_probs), per class in the details. No bootstrap: resampling
with replacement adds exact duplicates, which lowers the score.
"""
from __future__ import annotations

import numpy as np

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


def _labels(inputs: MetricInputs) -> np.ndarray | None:
    if inputs.has("fake.labels"):
        return np.asarray(inputs.get("fake.labels"))
    if inputs.has("fake.class_probs"):
        return np.asarray(inputs.get("fake.class_probs")).argmax(axis=1)
    return None


@METRICS.register("vendi")
class Vendi(Metric):
    name = "vendi"
    outputs = ("vendi",)
    higher_is_better = {"vendi": True}
    needs = ("fake.embedding",)
    definition = "exp(−Σ λ log λ), λ eigenvalues of K/n, K cosine similarity of fake features; per class too"
    matches = "vertaix/Vendi-Score vendi_score/vendi.py (score with the cosine kernel)"
    differences = ("the smaller of the n × n and d × d Gram matrices is decomposed (same eigenvalues)",)
    bootstrap_sets = ()

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        x = np.asarray(inputs.get("fake.embedding"))  # [N, D]
        labels = _labels(inputs)
        details: dict = {"n": len(x)}
        if labels is not None:
            details["per_class"] = {str(int(c)): fn.vendi_score(x[labels == c])
                                    for c in np.unique(labels) if (labels == c).sum() >= 2}
        return {"vendi": MetricValue(fn.vendi_score(x), details=details)}
