"""Inception Score (Salimans et al. 2016), torch-fidelity conventions (`metric_isc.isc_features_to_metric`).

exp(E_x KL(p(y|x) ‖ p(y))) per split after a seeded shuffle (numpy RandomState(seed).permutation, the
same shuffle torch-fidelity draws for the same seed); mean and std (ddof=0) over splits.
"""
from __future__ import annotations

from dataclasses import dataclass

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

    @dataclass(frozen=True)
    class Params:
        splits: int = 10

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        logits = inputs.get("fake.logits")  # [N, C]
        splits = self.params.splits
        if len(logits) < 2 * splits:
            raise NotEnoughSamplesError(f"metric 'is' needs at least {2 * splits} samples for "
                                        f"splits={splits}; got fake.logits={len(logits)}")
        mean, std = fn.inception_score(logits, splits, shuffle=True, seed=config.seed)
        return {"is": MetricValue(mean, std, details={"splits": splits})}
