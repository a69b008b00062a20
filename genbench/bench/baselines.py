"""Baseline sample sets every suite ranks its models against.

- real-vs-real: real items disjoint from the reference (the last N of the baseline dataset), i.e. what
  a perfect generator would score at this N;
- noise: seeded uniform noise (uint8 images of the reference's size, or points uniform over the
  mixture's bounding box padded by 0.5); item k depends only on seed k.
"""
from __future__ import annotations

import numpy as np

from genbench.data import load_dataset, toy2d_modes
from genbench.errors import InputError
from genbench.sets.samples import SampleSet


def real_baseline(dataset: str, n: int) -> SampleSet:
    ds = load_dataset(dataset)
    if len(ds.data) < n:
        raise InputError(f"real-vs-real baseline: {dataset} has {len(ds.data)} items, fewer than {n}")
    data = ds.data[len(ds.data) - n:]
    labels = None if ds.labels is None else ds.labels[len(ds.data) - n:]
    return SampleSet.from_array(np.ascontiguousarray(data), layout="NCHW", labels=labels,
                                source=f"baseline:real-vs-real:{dataset}[-{n}:]", dataset=dataset)


def noise_baseline(reference: SampleSet, n: int, seed0: int = 0) -> SampleSet:
    seeds = range(seed0, seed0 + n)
    if reference.kind == "points":
        centres, _ = toy2d_modes(reference.dataset or "")
        lo, hi = centres.min(axis=0) - 0.5, centres.max(axis=0) + 0.5
        pts = np.stack([np.random.default_rng(s).uniform(lo, hi) for s in seeds])  # [n, 2] float64
        return SampleSet.from_array(pts, source="baseline:noise")
    shape = reference.item_shape  # (3, H, W)
    imgs = np.stack([np.random.default_rng(s).integers(0, 256, size=shape, dtype=np.uint8) for s in seeds])
    return SampleSet.from_array(imgs, layout="NCHW", source="baseline:noise", manifest={"seeds": list(seeds)})
