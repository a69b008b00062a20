"""Build a registered extractor with resolved weights, and run it over a SampleSet in batches.

Weights resolve through genbench.features.weights (explicit path, then $GENBENCH_HOME/weights, sha256-checked);
numerics are made strict (TF32 off, deterministic cuDNN) before any network is built.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from genbench.errors import ConfigError, InputError
from genbench.features import load_all
from genbench.features.base import EXTRACTORS, FeatureExtractor, WeightsInfo
from genbench.numerics import resolve_device, strict_numerics
from genbench.seeding import keep_global_rng


def build_extractor(name: str, device: str = "auto", weights_path: Path | str | None = None,
                    allow_unverified: bool = False) -> FeatureExtractor:
    """The extractor `name` on `device`; weights_path overrides the store for extractors with weights entries."""
    from genbench.features import weights

    load_all()
    spec = EXTRACTORS.get(name)
    dev = resolve_device(device)
    strict_numerics()
    if spec.weights_name is None:
        if weights_path is not None:
            raise ConfigError(f"--weights: extractor {name!r} uses no downloadable weights (none, or shipped "
                              "with genbench), so it takes no weights file")
        with keep_global_rng():  # layer initialisation draws from torch's global RNG: the caller's state
            return spec.build(dev, WeightsInfo(name=None, sha256=None, verified=True), None)
    path, info = weights.resolve(spec.weights_name, weights_path, allow_unverified)
    with keep_global_rng():
        return spec.build(dev, info, str(path))


def extract(extractor: FeatureExtractor, samples: Any, batch_size: int = 64,
            progress: bool = False, local: bool = False) -> dict[str, np.ndarray]:
    """Features of every image in `samples` (a SampleSet, path, dataset name or uint8 array), in order.

    Returns {role: float32 [N, D]} for each of the extractor's outputs. Under a torch.distributed process
    group each rank extracts its contiguous block of whole batches and the rows are gathered in order on
    every rank (genbench.distributed), unless `local` (this process only).
    """
    from genbench import distributed
    from genbench.progress import bar as progress_bar
    from genbench.sets.samples import open_samples

    ss = open_samples(samples)
    if ss.kind != "images":
        raise InputError(f"{ss.source}: feature extractor {extractor.name!r} needs images, got {ss.kind}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: must be at least 1")
    if not local and distributed.active():
        return _extract_sharded(extractor, ss, batch_size, progress)
    parts: dict[str, list[np.ndarray]] = {}
    bar = progress_bar(total=len(ss), desc=f"features {extractor.name}", unit="img", enabled=progress)
    with bar:
        for out in extractor.run_batches(ss.batches(batch_size)):
            for role, arr in out.items():
                parts.setdefault(role, []).append(np.asarray(arr, dtype=np.float32))
            bar.update(len(next(iter(out.values()))))
    return {role: np.concatenate(chunks) for role, chunks in parts.items()}


def _extract_sharded(extractor: FeatureExtractor, ss: Any, batch_size: int,
                     progress: bool) -> dict[str, np.ndarray]:
    """torchrun: this rank's whole batches (same batch boundaries as one process), then all rows in order."""
    from genbench import distributed
    from genbench.sets.samples import SampleSet

    part = distributed.shard(len(ss), block=batch_size)
    view = SampleSet(len(part), lambda a, b: ss.read(part.start + a, part.start + b), kind=ss.kind,
                     shape=ss.item_shape, source=f"{ss.source}[{part.start}:{part.stop}]")
    show = progress and distributed.is_main()
    feats = distributed.guarded(lambda: extract(extractor, view, batch_size, show, local=True) if len(part) else {})
    return {role: distributed.gather_rows(feats.get(role)) for role in extractor.outputs}
