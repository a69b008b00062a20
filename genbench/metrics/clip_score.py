"""CLIP score, two named variants that are never mixed.

- `clip_score`: mean over images of 100 · max(cos(image, text), 0) (torchmetrics' CLIPScore formula;
  torchmetrics clamps the mean rather than each image, identical when no cosine is negative).
- `clipscore_hessel`: mean of 2.5 · max(cos, 0) (Hessel et al. 2021, "CLIPScore"). Hessel et al. encode
  each caption with the prefix HESSEL_PREFIX = "A photo depicts ", so this variant reads the input
  "fake.text_hessel": the evaluator must encode HESSEL_PREFIX + prompt with the CLIP text tower for it.
"""
from __future__ import annotations

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue

HESSEL_PREFIX = "A photo depicts "


@METRICS.register("clip_score")
class CLIPScore(Metric):
    name = "clip_score"
    outputs = ("clip_score",)
    domains = {"clip_score": (0.0, float("inf"))}
    higher_is_better = {"clip_score": True}
    needs = ("fake.clip", "fake.text")
    definition = "mean over images of 100·max(cos(CLIP image, CLIP prompt), 0) (torchmetrics convention)"
    matches = "torchmetrics functional/multimodal/clip_score.py (100 · cos)"
    differences = ("torchmetrics clamps the mean at 0, genbench each image's score (equal unless a cosine is "
                   "negative)", "genbench's CLIP is ViT-B/32; torchmetrics' default model is ViT-L/14")
    bootstrap_sets = ("fake",)
    min_samples = 1
    scale = 100.0

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        image, text = inputs.get(self.needs[0]), inputs.get(self.needs[1])  # [N, 512] each, row-aligned
        return {self.outputs[0]: MetricValue(fn.clip_score(image, text, self.scale), details={"n": len(image)})}


@METRICS.register("clipscore_hessel")
class CLIPScoreHessel(CLIPScore):
    name = "clipscore_hessel"
    outputs = ("clipscore_hessel",)
    domains = {"clipscore_hessel": (0.0, float("inf"))}
    higher_is_better = {"clipscore_hessel": True}
    needs = ("fake.clip", "fake.text_hessel")
    definition = f"mean of 2.5·max(cos, 0), prompts encoded as {HESSEL_PREFIX!r} + prompt (Hessel et al. 2021)"
    matches = "jmhessel/clipscore clipscore.py (2.5 · max(cos, 0) per image, 'A photo depicts ' prefix)"
    differences = ()  # same model (ViT-B/32), prefix and clipping as the paper's code
    scale = 2.5
