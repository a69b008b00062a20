"""Inception Score (Salimans et al. 2016), torch-fidelity conventions (`metric_isc.isc_features_to_metric`).

exp(E_x KL(p(y|x) ‖ p(y))) per split after a seeded shuffle (numpy RandomState(seed).permutation, the
same shuffle torch-fidelity draws for the same seed); mean and std (ddof=0) over splits.
"""
from __future__ import annotations

from genbench.errors import NotEnoughSamplesError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("is")
class InceptionScore(Metric):
    name = "is"
    outputs = ("is",)
    higher_is_better = {"is": True}
    needs = ("fake.logits",)
    definition = "exp(E KL(p(y|x) ‖ p(y))) per split of the seeded-shuffled samples; mean ± std over splits"
    bootstrap_sets = ("fake",)

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        logits = inputs.get("fake.logits")  # [N, C]
        if len(logits) < 2 * config.is_splits:
            raise NotEnoughSamplesError(f"metric 'is' needs at least {2 * config.is_splits} samples for "
                                        f"is_splits={config.is_splits}; got fake.logits={len(logits)}")
        mean, std = fn.inception_score(logits, config.is_splits, mode="torch-fidelity", seed=config.seed)
        return {"is": MetricValue(mean, std, details={"splits": config.is_splits})}
