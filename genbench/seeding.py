"""Per-sample randomness: sample k depends only on seed k, never on batch size or the global RNG.

Follows the idea of EDM's stacked per-seed generators and diffusers' generator lists.
"""
from __future__ import annotations

import contextlib
import numbers
import random
from typing import Iterator, Sequence

import numpy as np
import torch

from genbench.errors import ConfigError


MAX_SEED = 2**63 - 1  # numpy's SeedSequence refuses negative seeds; torch generators take 64-bit seeds


def check_seed(value, name: str = "seed") -> int:
    """The one check of a seed, for every entry point (CLI, API, result files): an int in [0, 2**63 - 1],
    else ConfigError naming `name` and the value (never a library's traceback from deep inside a metric)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= MAX_SEED:
        raise ConfigError(f"{name} must be an int from 0 to 2**63 - 1, got {value!r}")
    return int(value)


@contextlib.contextmanager
def keep_global_rng() -> Iterator[None]:
    """Restore the caller's global random state (torch CPU and initialised CUDA devices, numpy, random) on
    exit: library code that cannot avoid the global RNG (torch.nn layer initialisation) runs inside this."""
    np_state, py_state = np.random.get_state(), random.getstate()
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=cuda):
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def parse_seeds(spec: str) -> list[int]:
    """Parse '0-999', '3', or '0,2,5-7' into a list of non-negative ints (order kept, duplicates refused)."""
    seeds: list[int] = []
    try:
        for part in str(spec).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(p) for p in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise ConfigError(f"--seeds: cannot parse {spec!r}; use e.g. '0-999' or '0,5,10-19'") from None
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds) or not seeds:
        raise ConfigError(f"--seeds: {spec!r} must list distinct non-negative integers")
    return seeds


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def randn_per_seed(seeds: Sequence[int], shape: Sequence[int], device: torch.device | str = "cpu",
                   stream: int = 0) -> torch.Tensor:
    """One standard-normal draw of `shape` per seed, stacked: [len(seeds), *shape] float32.

    Noise is drawn on the CPU so that CPU and CUDA runs start from identical bits. `stream` selects an
    independent stream per seed (e.g. stream 1 for the per-step noise of an ancestral sampler).
    """
    out = [torch.randn(tuple(shape), generator=generator(s * 1_000_003 + stream)) for s in seeds]
    return torch.stack(out).to(device) if out else torch.empty((0, *shape), device=device)
