"""CUDA paths (skipped without a GPU): features equal the CPU's within 1e-4 relative, generation is
batch-size invariant on CUDA, and torchrun-style batch-aligned sharding keeps features bit-identical.
scripts/gpu_check.py runs these and the GPU timings in one go."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-12))


def _features(name: str, device: str, images: np.ndarray, weights=None, batch_size: int = 16) -> dict:
    from genbench.features.extract import build_extractor, extract

    ext = build_extractor(name, device=device, weights_path=weights, allow_unverified=weights is not None)
    return extract(ext, images, batch_size=batch_size)


def test_digits_features_cuda_equal_cpu():
    from genbench.sets.samples import SampleSet

    x = SampleSet.from_dataset("digits").load()[:64]
    cpu, gpu = _features("digits-classifier", "cpu", x), _features("digits-classifier", "cuda", x)
    for role in cpu:
        assert _rel(gpu[role], cpu[role]) < 1e-4, role


def test_inception_features_cuda_equal_cpu_and_batch_invariant(tmp_path):
    from tests.parity.inception_helpers import random_inception_weights, smooth_images

    w = random_inception_weights(tmp_path / "inception.pth", seed=0)
    x = smooth_images(24, size=32, seed=1)
    cpu = _features("inception-v3-tf", "cpu", x, w)
    gpu = _features("inception-v3-tf", "cuda", x, w)
    gpu7 = _features("inception-v3-tf", "cuda", x, w, batch_size=7)
    for role in cpu:
        assert _rel(gpu[role], cpu[role]) < 1e-4, role
        assert _rel(gpu7[role], gpu[role]) < 1e-5, role


def test_diffusers_generation_batch_invariant_on_cuda(tmp_path):
    pytest.importorskip("diffusers")
    from genbench.sets.diffusers import DiffusersOptions
    from genbench.sets.samples import SampleSet
    from tests.diffusers_tiny import save_pipeline

    pipe = save_pipeline("ddpm", tmp_path, size=16)
    seeds = [4, 9, 1, 7, 3]
    a, b = (SampleSet.from_diffusers(pipe, seeds, DiffusersOptions(steps=3, batch_size=bs, device="cuda")).load()
            for bs in (2, 5))
    assert np.array_equal(a, b)
    single = SampleSet.from_diffusers(pipe, seeds[3:4], DiffusersOptions(steps=3, batch_size=2, device="cuda")).load()
    assert np.array_equal(a[3:4], single)
