"""CUDA path of `inception-v3-tf` / `inception-v3-clean`: strict numerics, CPU agreement, batch-size invariance.

Skipped without a GPU (the session that wrote these had none; they have not run on CUDA yet).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genbench.features.extract import build_extractor, extract
from tests.parity.inception_helpers import random_inception_weights, smooth_images

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_inception_weights(tmp_path_factory.mktemp("inception") / "random-inception.pth", seed=0)


@pytest.mark.parametrize("name", ["inception-v3-tf", "inception-v3-clean"])
def test_cuda_matches_cpu_and_is_batch_invariant(weights_file: Path, name: str) -> None:
    images = smooth_images(6, size=32, seed=3)
    cpu = build_extractor(name, device="cpu", weights_path=weights_file, allow_unverified=True)
    gpu = build_extractor(name, device="cuda", weights_path=weights_file, allow_unverified=True)
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert torch.backends.cudnn.deterministic and torch.are_deterministic_algorithms_enabled()
    ref = extract(cpu, images, batch_size=6)
    got = extract(gpu, images, batch_size=6)
    for role in ("embedding", "logits"):
        assert got[role].dtype == np.float32
        scale = np.abs(ref[role]).max()
        np.testing.assert_allclose(got[role], ref[role], rtol=0, atol=1e-4 * scale)
    again = extract(gpu, images, batch_size=4)
    np.testing.assert_allclose(again["embedding"], got["embedding"], rtol=0, atol=1e-5)
