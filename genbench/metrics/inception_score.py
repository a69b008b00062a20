"""Inception Score (Salimans et al. 2016), `is`, and the same formula on another classifier,
`classifier_score`.

exp(E_x KL(p(y|x) ‖ p(y))) per chunk of the samples; mean and std (ddof=0) over chunks. The chunking is
the metric's `Params.mode` (genbench.metrics.functional.fd.IS_MODES):
- "tf" (default): the original TF code, openai/improved-gan `inception_score/model.py`: no shuffle,
  `splits` = 10 equal chunks. Most published IS tables come from this code or ports of it
  (StyleGAN2-ADA's `inception_score.py` splits its unshuffled samples the same way).
- "adm": ADM's evaluator, openai/guided-diffusion `evaluations/evaluator.py`: no shuffle, chunks of
  `split_size` = 5,000 (a shorter last chunk kept); equal to "tf" at N = 50,000.
- "torch-fidelity": `metric_isc.isc_features_to_metric`: RandomState(`seed` = 2020) shuffle, then
  `splits` chunks.
The mode is in every result's protocol record (metric_params) and in the value's details.

`is` exists only on Inception logits; on any other classifier (the digits classifier) the number is
`classifier_score`, so it is never mistaken for a published Inception Score.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.inception_only import inception_only_reason


@METRICS.register("classifier_score")
class ClassifierScore(Metric):
    name = "classifier_score"
    outputs: ClassVar[tuple[str, ...]] = ("classifier_score",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"classifier_score": True}
    needs = ("fake.logits",)
    definition = ("the Inception-Score formula exp(E KL(p(y|x) ‖ p(y))) on the protocol's classifier "
                  "logits; mean ± std over splits (Params.mode)")
    matches = ("openai/improved-gan inception_score/model.py (mode tf, the default: no shuffle, 10 splits)")
    differences: ClassVar[tuple[str, ...]] = (
        "mode adm = guided-diffusion evaluations/evaluator.py (no shuffle, splits of 5,000; = tf at N = 50k)",
        "mode torch-fidelity = metric_isc.py (RandomState(2020) shuffle, 10 splits)",
        "softmax in float64 (the TF code and ADM: float32), ~1e-6 relative",
    )
    bootstrap_sets = ("fake",)
    domains: ClassVar[Mapping[str, tuple[float, float]]] = {"classifier_score": (1.0, float("inf"))}

    @dataclass(frozen=True)
    class Params:
        mode: str = "tf"  # one of functional.fd.IS_MODES
        splits: int = 10  # modes tf and torch-fidelity
        split_size: int = 5000  # mode adm
        seed: int = 2020  # mode torch-fidelity's shuffle (its rng_seed default)

        def __post_init__(self) -> None:
            if self.mode not in fn.IS_MODES:
                raise ConfigError(f"is mode: unknown {self.mode!r}; choose one of {', '.join(fn.IS_MODES)}")
            if self.splits < 1 or self.split_size < 1:
                raise ConfigError(f"is: need splits >= 1 and split_size >= 1, got {self}")

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        logits = inputs.get("fake.logits")  # [N, C]
        p = self.params
        need = 2 if p.mode == "adm" else 2 * p.splits
        if len(logits) < need:
            raise NotEnoughSamplesError(f"metric {self.name!r} needs at least {need} samples for mode {p.mode} "
                                        f"with splits={p.splits}; got fake.logits={len(logits)}")
        mean, std = fn.inception_score(logits, p.splits, p.mode, p.seed, p.split_size)
        chunks = -(-len(logits) // p.split_size) if p.mode == "adm" else p.splits
        return {self.outputs[0]: MetricValue(mean, std, details={"mode": p.mode, "splits": chunks})}

    def replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                   config: MetricConfig) -> list[dict[str, float]]:
        """Each replicate takes its rows of per-row quantities computed once (the softmax is row by row):
        p(y|x) and Σ_y p log p per row; a split's score is then exp(mean Σ p log p − Σ_y q log q) with q the
        split's mean p. Equal to `point` on the materialised resample up to rounding (1e-12 relative)."""
        p = self.params
        log_p = fn.log_softmax(inputs.get("fake.logits"))  # [N, C] float64
        probs = np.exp(log_p)
        neg_entropy = (probs * log_p).sum(axis=1)  # [N]
        return [{self.outputs[0]: fn.inception_score_rows(probs, neg_entropy, d["fake"], p.splits, p.mode, p.seed,
                                                          p.split_size)} for d in draws]


@METRICS.register("is")
class InceptionScore(ClassifierScore):
    name = "is"
    outputs: ClassVar[tuple[str, ...]] = ("is",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"is": True}
    domains: ClassVar[Mapping[str, tuple[float, float]]] = {"is": (1.0, float("inf"))}
    definition = ("exp(E KL(p(y|x) ‖ p(y))) on Inception logits per split (Params.mode, default tf: no "
                  "shuffle, 10 splits); mean ± std over splits")
    differences = ("only on Inception logits (inception-v3-tf, inception-v3-clean); elsewhere: classifier_score",
                   *ClassifierScore.differences)

    def available(self, inputs: MetricInputs) -> str | None:
        return inception_only_reason(self.name, "classifier_score", inputs) or super().available(inputs)
