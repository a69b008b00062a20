"""Training is bit-reproducible whatever the caller's thread setting, and checkpoint files are byte-stable."""
from __future__ import annotations

import torch

import reference_models


def _train(tmp, threads: int):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return reference_models.train("gan", "digits-train", "quick", out=tmp / f"t{threads}", steps=20, device="cpu")
    finally:
        torch.set_num_threads(before)


def test_weights_and_checkpoint_bytes_do_not_depend_on_thread_count(tmp_path):
    a, b = _train(tmp_path, 1), _train(tmp_path, 2)
    assert a.checkpoint_hash == b.checkpoint_hash  # same tensors and same file bytes
    assert torch.equal(a.sample([0, 1, 2]), b.sample([0, 1, 2]))
    assert torch.get_num_threads() >= 1
