"""Regressions of known kind and size, for planning sample sizes and for benchmarks of known order.

Each turns a real sample (uint8 images, or their features) into a degraded one:
  blur k          k passes of a mild blur: a 3x3 binomial kernel (1 2 1)ᵀ(1 2 1)/16 mixed half and half
                  with the image (replicate padding); the same step as tests/benchmarks/gate_pools
  noise σ         Gaussian noise of standard deviation σ (of 255), one draw per pixel shared by the channels
  missing-class k the rows whose predicted class (argmax of the classifier's probabilities) is one of k
                  classes drawn with the seed are dropped
  fd-shift s      every embedding moved by √s along the baseline's first principal axis: FD against the
                  baseline itself rises by exactly s; against another reference R by s + 2√s·axis·(μ_b − μ_R).
                  The planner shifts one feature space (the protocol primary metric's) and leaves the others
Pure array functions; seeds are explicit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.errors import ConfigError

KINDS = ("blur", "noise", "missing-class", "fd-shift")
IMAGE_KINDS = ("blur", "noise")


@dataclass(frozen=True)
class Regression:
    kind: str
    size: float
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"--kind: unknown regression {self.kind!r} (choose from {', '.join(KINDS)})")
        if not np.isfinite(self.size) or self.size <= 0:
            raise ConfigError(f"--size: the {self.kind} regression needs a positive size, got {self.size}")
        if self.kind in ("blur", "missing-class") and float(self.size) != int(self.size):
            raise ConfigError(f"--size: {self.kind} counts steps or classes, a whole number, got {self.size}")


def blur(images: np.ndarray, steps: int = 1) -> np.ndarray:
    """`steps` mild blur passes of uint8 [N, C, H, W] images."""
    k = np.array([1.0, 2.0, 1.0]) / 4.0
    x = images.astype(np.float64)  # [N, C, H, W]
    for _ in range(int(steps)):
        p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")  # [N, C, H+2, W+2]
        rows = k[0] * p[:, :, :-2] + k[1] * p[:, :, 1:-1] + k[2] * p[:, :, 2:]  # [N, C, H, W+2]
        y = k[0] * rows[..., :-2] + k[1] * rows[..., 1:-1] + k[2] * rows[..., 2:]  # [N, C, H, W]
        x = np.clip(np.rint(0.5 * x + 0.5 * y), 0, 255)
    return x.astype(np.uint8)


def noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Gaussian noise of `std` (of 255) added to uint8 [N, C, H, W] images, one draw per pixel position."""
    rng = np.random.default_rng([seed, 0x401E])
    n = rng.normal(0.0, std, size=(len(images), 1) + images.shape[2:])  # [N, 1, H, W]
    return np.clip(np.rint(images + n), 0, 255).astype(np.uint8)


def kept_rows(class_probs: np.ndarray, classes: int, seed: int = 0) -> np.ndarray:
    """Indices of the rows whose predicted class is not among `classes` classes drawn with the seed."""
    k = class_probs.shape[1]
    if not 0 < classes < k:
        raise ConfigError(f"--size: can remove 1 to {k - 1} of {k} classes, not {classes}")
    rng = np.random.default_rng([seed, 0xC1A5])
    dropped = rng.choice(k, size=int(classes), replace=False)
    rows = np.flatnonzero(~np.isin(class_probs.argmax(1), dropped))
    if len(rows) == 0:
        raise ConfigError("--kind missing-class: no rows left after removing the classes")
    return rows


def shift(embedding: np.ndarray, size: float, baseline: np.ndarray) -> np.ndarray:
    """Embeddings [N, D] moved by √size along the first principal axis of `baseline` [M, D]."""
    cov = np.cov(baseline.astype(np.float64), rowvar=False)  # [D, D]
    axis = np.linalg.eigh(np.atleast_2d(cov))[1][:, -1]  # [D] unit vector of the largest variance
    return (embedding.astype(np.float64) + np.sqrt(size) * axis).astype(embedding.dtype)
