"""CLIP metrics end to end through evaluate(): ViT-B-32 with seeded random weights (marked unverified),
prompts from the class template, both CLIP-score variants and CMMD."""
from __future__ import annotations

import math

import pytest
import torch

from genbench.eval.run import evaluate
from genbench.sets.samples import open_samples


@pytest.fixture(scope="module")
def clip_weights(tmp_path_factory):
    from genbench.features.clip import clip_architecture

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("clip") / "clip-random.pt"
    torch.save(clip_architecture().state_dict(), path)
    return path


def test_clip_scores_and_cmmd(clip_weights, tmp_path):
    fake = open_samples("digits-test").take(8)
    res = evaluate(fake, "digits-train", num_reference=8, extractor="clip-vit-b-32",
                   metrics=["clip_score", "clipscore_hessel", "cmmd"], weights={"clip-vit-b-32": str(clip_weights)},
                   allow_unverified=True, prompt_template="a handwritten digit {label}", bootstrap=0,
                   cache_dir=tmp_path, device="cpu")
    assert res.unverified
    cs, hs = res.value("clip_score"), res.value("clipscore_hessel")
    assert 0.0 <= cs <= 100.0 and 0.0 <= hs <= 2.5
    assert math.isfinite(res.value("cmmd"))
