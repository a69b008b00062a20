"""Per-seed sampling machinery: image k depends only on seed k, whatever the batch size.

Two rules make that hold bit for bit:
1. Every random draw for sample k comes from generators seeded by seed k alone (one stream per purpose:
   initial noise, per-step noise, class label), drawn on the CPU and then moved to the device, as in
   genbench.seeding.randn_per_seed (EDM's stacked per-seed generators, diffusers' generator lists).
2. The network always runs on micro-batches of one fixed size (the config's `micro_batch`), padded with
   zeros, because CPU kernels may block a batch of 1 differently from a batch of 64. Rows of a fixed-shape
   batch are computed independently (GroupNorm, no BatchNorm in train mode), so padding changes nothing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import torch

from genbench.seeding import generator

STREAM_INIT, STREAM_STEP, STREAM_LABEL = 0, 1, 2
_SEED_MUL = 1_000_003  # as genbench.seeding.randn_per_seed: stream s of seed k is generator(k * M + s)


class SeedStreams:
    """One CPU generator per seed for one stream; padding rows (seed None) draw zeros."""

    def __init__(self, seeds: Sequence[int | None], stream: int, device: torch.device) -> None:
        self.gens = [None if s is None else generator(int(s) * _SEED_MUL + stream) for s in seeds]
        self.device = device

    def randn(self, *shape: int) -> torch.Tensor:
        rows = [torch.zeros(shape) if g is None else torch.randn(shape, generator=g) for g in self.gens]
        return torch.stack(rows).to(self.device)  # [M, *shape] float32


def labels_for_seeds(seeds: Sequence[int], num_classes: int) -> list[int]:
    """A class label per seed, drawn from the seed's own label stream."""
    return [int(torch.randint(num_classes, (1,), generator=generator(int(s) * _SEED_MUL + STREAM_LABEL)))
            for s in seeds]


@dataclass(frozen=True)
class SampleOptions:
    """Resolved sampler settings, recorded in every manifest (None where a family has no such knob)."""

    sampler: str | None = None
    steps: int | None = None
    eta: float | None = None
    guidance: float | None = None
    class_label: int | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Chunk:
    """One padded micro-batch: `n` real seeds followed by padding rows."""

    init: SeedStreams        # initial noise / latent code
    step: SeedStreams        # per-step noise of stochastic samplers
    labels: torch.Tensor | None  # [M] int64 on the device (padding rows: 0)
    n: int


def make_chunk(seeds: Sequence[int], labels: Sequence[int] | None, micro_batch: int, device: torch.device) -> Chunk:
    padded: list[int | None] = list(seeds) + [None] * (micro_batch - len(seeds))
    lab = None
    if labels is not None:
        lab = torch.tensor(list(labels) + [0] * (micro_batch - len(seeds)), dtype=torch.int64, device=device)
    return Chunk(SeedStreams(padded, STREAM_INIT, device), SeedStreams(padded, STREAM_STEP, device), lab, len(seeds))


def quantize(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images [N, C, H, W] -> uint8 [N, 3, H, W] by rounding; gray is repeated to 3 channels."""
    u8 = ((x.float() + 1.0) * 127.5).clamp(0, 255).round().to(torch.uint8)
    return u8.repeat(1, 3, 1, 1) if u8.shape[1] == 1 else u8
