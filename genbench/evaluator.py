"""genbench.Evaluator: a streaming evaluator for training loops, with exactly evaluate()'s numbers.

    ev = genbench.Evaluator(protocol="digits-default", reference="digits")
    for batch in batches:            # any batch size; uint8 NCHW, or float with value_range="-1,1" / "0,1"
        ev.update(batch)
    result = ev.compute()            # an EvalResult, the same as evaluate(all images in order, reference, ...)
    ev.reset()                       # next checkpoint; the reference stays loaded

The metric-state pattern (update / compute / reset, sync at compute) is torchmetrics' and the per-rank
gather of generated samples is what StyleGAN2-ADA's and EDM's training-time FID do; none of their code
is used. This implementation keeps the uint8 images it is given (1 byte per pixel: 150 MB for 50,000
CIFAR-10 images) and runs `genbench.evaluate` on them at compute(), which is what makes its numbers
evaluate()'s by construction. The reference is opened once (one decode, one fingerprint) and its features
are extracted once and then served from memory on every later compute().

Inside DDP (an initialised torch.distributed process group) every rank calls update() with its own images
and every rank calls compute(): the images are gathered in rank order -- all of rank 0's updates in
order, then rank 1's, and so on -- and evaluate() then extracts features sharded across the ranks, in
whole batches, so the result is bit-identical to a single process running
`evaluate(concatenate(rank 0's images, rank 1's images, ...), reference, ...)` with the same per-process
thread count (torchrun's default is one). For exact equality with an evaluate() run on a single process,
give that run the images in this rank order: e.g. let rank r generate the seeds
`genbench.distributed.shard(N)` (contiguous blocks), not a strided DistributedSampler split.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from genbench.features.cache import FeatureCache
from genbench.result import EvalResult


class _RoundCache(FeatureCache):
    """In-memory feature cache that keeps what the last compute() used: the reference's features survive
    (they are hit every round); the features of an earlier, smaller set of generated images are dropped."""

    def __init__(self) -> None:
        super().__init__(None)
        self.entries: dict[str, dict[str, np.ndarray]] = {}
        self.used: set[str] = set()

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        if key in self.entries:
            self.used.add(key)
        return self.entries.get(key)

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        self.entries[key] = arrays
        self.used.add(key)

    def get_or_compute(self, key, compute):  # type: ignore[override]
        from genbench import distributed

        if distributed.active():
            return distributed.cached_collectively(self.load, self.save, key, compute, everywhere=True)
        hit = self.load(key)
        if hit is None:
            hit = compute()
            self.save(key, hit)
        return hit

    def end_round(self) -> None:
        self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.used = set()


class Evaluator:
    """Accumulate generated images batch by batch; score them with `compute()`.

    Keyword arguments are evaluate()'s (protocol, metrics, extractor, num_reference, seed, batch_size,
    device, weights, allow_unverified, bootstrap, train, heldout, name); `value_range` declares the range of
    float images given to update() (and of a float reference array).
    """

    def __init__(self, protocol: str | Any | None = None, reference: Any = None, *,
                 metrics: Sequence[str] | str | None = None, extractor: str | None = None,
                 value_range: str | None = None, num_reference: int | None = None, seed: int = 0,
                 batch_size: int = 64, device: str = "auto", weights: dict[str, str] | None = None,
                 allow_unverified: bool = False, bootstrap: int | None = None, train: Any = None,
                 heldout: Any = None, name: str | None = None) -> None:
        from genbench.errors import ConfigError
        from genbench.evaluate import resolve_protocol
        from genbench.samples import open_samples

        proto = resolve_protocol(protocol, metrics, extractor, seed, bootstrap, "cpu")  # validates names early
        spec = reference if reference is not None else proto.reference
        if spec is None:
            raise ConfigError(f"reference: protocol {proto.name} has no default reference; name one")
        self.value_range = value_range
        self.reference = open_samples(spec, value_range=value_range, what="--ref").take(num_reference)
        _ = self.reference.fingerprint  # decoded and hashed once, here
        self._kwargs = dict(protocol=protocol, metrics=metrics, extractor=extractor, seed=seed,
                            batch_size=batch_size, device=device, weights=weights, allow_unverified=allow_unverified,
                            bootstrap=bootstrap, name=name,
                            train=None if train is None else open_samples(train, what="train"),
                            heldout=None if heldout is None else open_samples(heldout, what="heldout"))
        self._cache = _RoundCache()
        self._parts: list[np.ndarray] = []

    def update(self, images: Any) -> None:
        """Add a batch: uint8 [B, 3|1, H, W] (numpy or torch, any device), or float with `value_range`."""
        from genbench.images import to_uint8_nchw

        x = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
        if x.ndim == 4 and x.shape[0] == 0:
            return
        self._parts.append(to_uint8_nchw(x, value_range=self.value_range, layout="NCHW", where="Evaluator.update"))

    def __len__(self) -> int:
        """Images added on this rank since the last reset()."""
        return sum(len(p) for p in self._parts)

    def images(self) -> np.ndarray:
        """Every rank's images in rank order (uint8 [N, 3, H, W]); a collective under a process group."""
        from genbench import distributed
        from genbench.errors import InputError

        local = np.concatenate(self._parts) if self._parts else None
        if local is not None and len(self._parts) > 1:
            self._parts = [local]  # keep one array
        if distributed.world_size() == 1 and local is None:
            raise InputError("Evaluator.compute: no images were added (call update() first)")
        return distributed.gather_rows(local)

    def compute(self) -> EvalResult:
        """evaluate() over every image added so far (all ranks, rank order); call it on every rank."""
        from genbench.evaluate import evaluate

        result = evaluate(self.images(), self.reference, cache_dir=self._cache, **self._kwargs)
        self._cache.end_round()
        return result

    def reset(self) -> None:
        """Forget the generated images (the reference and its features stay loaded)."""
        self._parts = []
