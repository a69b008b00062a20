"""genbench.Evaluator: a streaming evaluator for training loops, with exactly evaluate()'s numbers.

    ev = genbench.Evaluator(protocol="digits-default", reference="digits")
    for batch in batches:            # any batch size; uint8 NCHW, or float with value_range="-1,1" / "0,1"
        ev.update(batch)
    result = ev.compute()            # an EvalResult, the same as evaluate(all images in order, reference, ...)
    ev.reset()                       # next checkpoint; the reference stays loaded

The metric-state pattern (update / compute / reset, sync at compute) is torchmetrics' and the per-rank
gather of generated samples is what StyleGAN2-ADA's and EDM's training-time FID do; none of their code
is used.

By default update() extracts features right away (every feature space of the protocol) and keeps no
images: images are buffered only until a whole batch of `batch_size` is there, so every image goes
through the network in the same batch, at the same position, as in evaluate() -- that is what makes the
features, and so the numbers, evaluate()'s bit for bit. compute() hands the features to evaluate() as
genbench.refs.stats.PrecomputedFeatures (the last, partial batch is extracted there and kept buffered, so
update() may go on). Metrics that need the images themselves (SSIM diversity, per-channel classes of
stacked digits) are then skipped with the reason recorded, as for any precomputed-features set; pass
`keep_images=True` to keep the uint8 images instead (1 byte per pixel: 150 MB for 50,000 CIFAR-10 images)
and run evaluate() on them at compute(), which covers every metric. The reference is opened once (one
decode, one fingerprint) and its features are extracted once, then served from memory.

Inside DDP (an initialised torch.distributed process group) every rank calls update() with its own images
and every rank calls compute(): the features (or images) are gathered in rank order -- all of rank 0's
updates in order, then rank 1's, and so on. The numbers equal those of a single process running
`evaluate(concatenate(rank 0's images, rank 1's images, ...), reference, ...)` with the same threads per
process (torchrun's default is one) when the batches line up: give every rank but the last a multiple of
`batch_size` images, e.g. let rank r generate the seeds `genbench.distributed.shard(N, block=batch_size)`
(contiguous blocks, not a strided DistributedSampler split). With keep_images=True any split lines up.
The samples fingerprint of a features-mode result is a hash of each rank's image bytes, not
SampleSet.fingerprint (which needs every image at once). Before gathering, the ranks check that they share
the reference, the protocol, the extractors and every option (genbench.distributed.agree): a rank built
with other arguments ends every rank with exit 2 instead of a mixed result.

Under torchrun without an initialised process group the ranks are independent processes: each scores only
its own images. Rank 0 says so once (a warning); to combine ranks, call torch.distributed's
init_process_group() (or genbench.distributed.init_from_env()) before creating the Evaluator.

Layouts: update() takes uint8 (or float with value_range) [B, C, H, W] with C = 1 or 3. Anything another
reading could explain -- 4 channels (RGBA or 4 pixels wide?), a last axis of 1, 3 or 4 (NHWC?), a 3-D
array (one CHW image or B grayscale images?) -- is refused unless `layout` states it ("NCHW", "NHWC",
"NHW", "CHW" or "HWC"). Every batch must have the size of the first. No call changes the caller's global
random state (torch, numpy, random).
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from genbench.errors import ConfigError, InputError
from genbench.eval.options import EvalOptions, resolve_options
from genbench.features.cache import FeatureCache
from genbench.eval.result import EvalResult
from genbench.seeding import keep_global_rng

LAYOUTS = ("NCHW", "NHWC", "NHW", "CHW", "HWC")
_TO_BATCH = {"NCHW": "NCHW", "NHWC": "NHWC", "NHW": "NCHW", "CHW": "NCHW", "HWC": "NHWC"}


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

    Keyword arguments are evaluate()'s (protocol, metrics, train, heldout, name, and the EvalOptions
    fields: options=EvalOptions(...) and/or extractor, num_reference, seed, batch_size, device, weights,
    allow_unverified, bootstrap, progress); `value_range` declares the range of float images given to
    update() (and of a float reference array); `keep_images` and `layout` see the module notes.
    num_samples, cache_dir and prompt_template are evaluate()'s only and refused here.
    """

    def __init__(self, protocol: str | Any | None = None, reference: Any = None, *,
                 metrics: Sequence[str] | str | None = None, train: Any = None, heldout: Any = None,
                 name: str | None = None, keep_images: bool = False, layout: str | None = None,
                 options: EvalOptions | None = None, **overrides: Any) -> None:
        opt = resolve_options(options, overrides, "Evaluator")
        _check_options(opt, layout, keep_images)
        with keep_global_rng():
            self._init(protocol, reference, metrics, opt, _Extra(train, heldout), name, keep_images, layout)

    def _init(self, protocol: Any, reference: Any, metrics: Sequence[str] | str | None, opt: EvalOptions,
              more: _Extra, name: str | None, keep_images: bool, layout: str | None) -> None:
        from genbench.eval.run import resolve_protocol
        from genbench.sets.samples import open_samples

        _say_ranks_are_independent()
        self.layout, self._size, self.options = layout, None, opt
        proto = resolve_protocol(protocol, metrics, opt.extractor, opt.seed, opt.bootstrap, "cpu")  # names early
        spec = reference if reference is not None else proto.reference
        if spec is None:
            raise ConfigError(f"reference: protocol {proto.name} has no default reference; name one")
        self.value_range, self.batch_size, self.keep_images = opt.value_range, opt.batch_size, keep_images
        self.reference = open_samples(spec, value_range=opt.value_range, what="--ref").take(opt.num_reference)
        _ = self.reference.fingerprint  # decoded and hashed once, here
        self._kwargs = dict(protocol=protocol, metrics=metrics, name=name,
                            train=None if more.train is None else open_samples(more.train, what="train"),
                            heldout=None if more.heldout is None else open_samples(more.heldout, what="heldout"))
        self._cache = _RoundCache()
        self._extractors = {} if keep_images else _extractors(proto, opt.device, dict(opt.weights or {}),
                                                              opt.allow_unverified)
        self._facts = {"protocol": proto.record(), "reference": self.reference.fingerprint, "n_ref": len(self.reference),
                       "options": _agreed_options(opt, metrics, name, keep_images),
                       "extractors": {n: e.cache_identity() for n, e in self._extractors.items()}}
        self.reset()

    def reset(self) -> None:
        """Forget the generated images and their features (the reference and its features stay loaded)."""
        self._pending: list[np.ndarray] = []  # images not yet in a whole batch (all of them if keep_images)
        self._feats: dict[str, dict[str, list[np.ndarray]]] = {n: {} for n in self._extractors}
        self._hash = hashlib.sha256()
        self._n = 0

    def update(self, images: Any) -> None:
        """Add a batch: uint8 [B, 3|1, H, W] (numpy or torch, any device), or float with `value_range`;
        another layout only when `layout` states it (see the module notes)."""
        from genbench.sets.images import to_uint8_nchw

        x = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
        if x.ndim == 4 and x.shape[0] == 0:
            return
        x = _batched(x, self.layout)
        with keep_global_rng():
            x = to_uint8_nchw(x, value_range=self.value_range, layout=_TO_BATCH.get(self.layout or "NCHW"),
                              where="Evaluator.update")
        self._check_size(x)
        self._hash.update(x.tobytes())
        self._n += len(x)
        self._pending.append(x)
        if not self.keep_images:
            self._extract_whole_batches()

    def __len__(self) -> int:
        """Images added on this rank since the last reset()."""
        return self._n

    def _check_size(self, x: np.ndarray) -> None:
        size = tuple(x.shape[1:])  # (3, H, W)
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise InputError(f"Evaluator.update: images of size {size[1]}x{size[2]} after images of size "
                             f"{self._size[1]}x{self._size[2]}; one Evaluator scores one image size (use another "
                             "Evaluator, or resize the images)")

    def _pending_array(self) -> np.ndarray | None:
        if not self._pending:
            return None
        if len(self._pending) > 1:
            self._pending = [np.concatenate(self._pending)]
        return self._pending[0]

    def _extract_whole_batches(self) -> None:
        x = self._pending_array()
        whole = (len(x) // self.batch_size) * self.batch_size
        if whole:
            for name, ext in self._extractors.items():
                for role, arr in _run(ext, x[:whole], self.batch_size).items():
                    self._feats[name].setdefault(role, []).append(arr)
            self._pending = [x[whole:]] if whole < len(x) else []

    def compute(self) -> EvalResult:
        """evaluate() over every image added so far (all ranks, rank order); call it on every rank."""
        from genbench import distributed
        from genbench.eval.run import evaluate

        distributed.agree("Evaluator.compute()", dict(self._facts, image_size=self._size))
        with keep_global_rng(), warnings.catch_warnings():
            if not distributed.is_main():
                warnings.simplefilter("ignore")  # the ranks agree: rank 0 says it once
            samples = self._gathered_images() if self.keep_images else self._gathered_features()
            opt = replace(self.options, num_reference=None, value_range=None, cache_dir=self._cache)
            result = evaluate(samples, self.reference, options=opt, **self._kwargs)
        self._cache.end_round()
        return result

    def _check_not_empty(self) -> None:
        from genbench import distributed
        from genbench.errors import InputError

        if distributed.world_size() == 1 and self._n == 0:
            raise InputError("Evaluator.compute: no images were added (call update() first)")

    def _gathered_images(self) -> np.ndarray:
        from genbench import distributed

        self._check_not_empty()
        return distributed.gather_rows(self._pending_array())

    def _gathered_features(self):
        from genbench import distributed
        from genbench.refs.stats import PrecomputedFeatures

        self._check_not_empty()
        tail = self._pending_array()
        features = {}
        for name, ext in self._extractors.items():  # same order on every rank
            extra = _run(ext, tail, self.batch_size) if tail is not None and len(tail) else {}
            local = {role: self._local(name, role, extra.get(role)) for role in ext.outputs}
            features[name] = {role: distributed.gather_rows(arr) for role, arr in local.items()}
        digests = distributed.gather_rows(np.frombuffer(self._hash.digest(), dtype=np.uint8)[None].copy())
        fingerprint = hashlib.sha256(digests.tobytes()).hexdigest()
        return PrecomputedFeatures(features, fingerprint, source="Evaluator")

    def _local(self, name: str, role: str, extra: np.ndarray | None) -> np.ndarray | None:
        parts = self._feats[name].get(role, []) + ([] if extra is None else [extra])
        return np.concatenate(parts) if parts else None


@dataclass(frozen=True)
class _Extra:
    """The train / held-out sets of the copy-rate and C_T metrics, as given."""

    train: Any = None
    heldout: Any = None


def _check_options(opt: EvalOptions, layout: Any, keep_images: Any) -> None:
    """What evaluate() accepts but an Evaluator cannot honour, and the Evaluator's own arguments."""
    opt.refuse(("num_samples", "cache_dir", "prompt_template"), "Evaluator",
               "the Evaluator scores every image given to update(), caches in memory and has no class labels")
    if layout is not None and layout not in LAYOUTS:
        raise ConfigError(f"Evaluator: layout {layout!r}; use one of {', '.join(LAYOUTS)} (or None for NCHW)")
    if not isinstance(keep_images, bool):
        raise ConfigError(f"Evaluator: keep_images must be True or False, got {keep_images!r}")


def _agreed_options(opt: EvalOptions, metrics: Any, name: str | None, keep_images: bool) -> dict[str, Any]:
    """The options every rank must share (genbench.distributed.agree), as they were before EvalOptions."""
    return dict(value_range=opt.value_range, batch_size=opt.batch_size, keep_images=keep_images, seed=opt.seed,
                bootstrap=opt.bootstrap, weights=opt.weights, name=name, allow_unverified=opt.allow_unverified,
                metrics=metrics, extractor=opt.extractor)


def _say_ranks_are_independent() -> None:
    """Under torchrun with no process group, each process scores its own images: say so, once (rank 0)."""
    from genbench import distributed

    if distributed.launched() and not distributed.active() and os.environ.get("RANK", "0") == "0":
        warnings.warn(f"genbench.Evaluator: running under torchrun (WORLD_SIZE={os.environ.get('WORLD_SIZE')}) "
                      "without an initialised torch.distributed process group, so every process scores only "
                      "its own images and nothing is combined; to combine the ranks call "
                      "genbench.distributed.init_from_env() (or torch.distributed.init_process_group()) first",
                      stacklevel=4)


def _batched(x: np.ndarray, layout: str | None) -> np.ndarray:
    """A 4-D batch; without a stated layout only an unambiguous [B, 1|3, H, W] is accepted."""
    if layout in ("CHW", "HWC"):
        if x.ndim != 3:
            raise InputError(f"Evaluator.update: layout {layout} is one image of 3 axes, got shape {list(x.shape)}")
        return x[None]
    if layout == "NHW":
        if x.ndim != 3:
            raise InputError(f"Evaluator.update: layout NHW is a batch of gray images, got shape {list(x.shape)}")
        return x[:, None]
    if layout is None:
        _refuse_ambiguous(x)
    return x


def _refuse_ambiguous(x: np.ndarray) -> None:
    shape = list(x.shape)
    hint = ("pass layout='CHW' (one image) or layout='NHW' (a batch of gray images)" if x.ndim == 3 else
            "pass layout='NHWC' or layout='NCHW'")
    if x.ndim != 4:
        raise InputError(f"Evaluator.update: images of shape {shape} are ambiguous or not images; {hint}")
    if x.shape[1] not in (1, 3) or x.shape[3] in (1, 3, 4):
        raise InputError(f"Evaluator.update: cannot tell the channel axis of shape {shape} (NCHW with "
                         f"{x.shape[1]} channels, or NHWC with {x.shape[3]}?); {hint}")


def _extractors(proto: Any, device: str, weights: dict[str, str], allow_unverified: bool) -> dict[str, Any]:
    """The protocol's extractors, built once; optional spaces whose weights are missing are left out
    (evaluate() then skips them with the reason)."""
    from genbench.errors import WeightsError
    from genbench.features.extract import build_extractor

    out = {}
    for space in proto.spaces:
        if space.extractor == "points" or space.extractor in out:
            continue
        try:
            out[space.extractor] = build_extractor(space.extractor, device=device,
                                                   weights_path=weights.get(space.extractor),
                                                   allow_unverified=allow_unverified)
        except WeightsError:
            if not space.optional:
                raise
    return out


def _run(extractor: Any, images: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """This process's features of `images` in batches of batch_size from its first image (no sharding)."""
    from genbench.features.extract import extract

    return extract(extractor, images, batch_size=batch_size, local=True)
