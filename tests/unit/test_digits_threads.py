"""The digits classifier runs on one torch thread (robust on a busy machine): its features must be the bits it
gives on two threads, whatever the batch size, and the caller's thread count must come back."""
import numpy as np
import pytest
import torch

from genbench.data import load_dataset
from genbench.features.digits import _cached


def _features(images: torch.Tensor, batch: int) -> dict[str, np.ndarray]:
    ext = _cached("cpu")
    parts = list(ext.run_batches(images[i:i + batch].numpy() for i in range(0, len(images), batch)))
    return {k: np.concatenate([p[k] for p in parts]) for k in ("embedding", "logits")}


@pytest.mark.parametrize("threads", [1, 2])
def test_digits_features_do_not_depend_on_threads_or_batch(threads):
    images = torch.from_numpy(np.array(load_dataset("digits-train").data)[:300])  # uint8 [300, C, 8, 8]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        got = _features(images, 64)
        assert torch.get_num_threads() == threads  # restored after each batch
    finally:
        torch.set_num_threads(before)
    torch.set_num_threads(2)
    try:
        with torch.inference_mode():
            emb, logits = _cached("cpu").model.features(images.float().div(255.0).mean(dim=1, keepdim=True))
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(got["embedding"], emb.numpy())  # two threads, one batch of 300
    np.testing.assert_array_equal(got["logits"], logits.numpy())
