"""Regressions of known kind and size, for planning sample sizes and for benchmarks of known order.

Each turns a real sample (uint8 images, or their features) into a degraded one:
  blur k          k passes of a mild blur: a 3x3 binomial kernel (1 2 1)ᵀ(1 2 1)/16 mixed half and half
                  with the image (replicate padding); the same step as tests/benchmarks/gate_pools
  noise σ         Gaussian noise of standard deviation σ (of 255), one draw per pixel shared by the channels
  missing-class k the rows whose predicted class (argmax of the classifier's probabilities) is one of k
                  classes drawn with the seed are dropped
  partial-class k each of k classes drawn with the seed kept at `share` of its share (e.g. 0.3), the other
                  classes filling up: partial mode dropping (issue #28, point 1)
  fd-shift s      every embedding moved by √s along the baseline's first principal axis: FD against the
                  baseline itself rises by exactly s; against another reference R by s + 2√s·axis·(μ_b − μ_R).
                  The planner shifts one feature space (the protocol primary metric's) and leaves the others
Pure array functions; seeds are explicit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.errors import ConfigError

KINDS = ("blur", "noise", "missing-class", "partial-class", "fd-shift")
CLASS_KINDS = ("missing-class", "partial-class")  # kinds that read the classifier's classes
IMAGE_KINDS = ("blur", "noise")


@dataclass(frozen=True)
class Regression:
    kind: str
    size: float
    seed: int = 0
    share: float | None = None  # partial-class only: the fraction of its share each drawn class keeps

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"--kind: unknown regression {self.kind!r} (choose from {', '.join(KINDS)})")
        if not np.isfinite(self.size) or self.size <= 0:
            raise ConfigError(f"--size: the {self.kind} regression needs a positive size, got {self.size}")
        if self.kind in ("blur",) + CLASS_KINDS and float(self.size) != int(self.size):
            raise ConfigError(f"--size: {self.kind} counts steps or classes, a whole number, got {self.size}")
        self._check_share()

    def _check_share(self) -> None:
        if self.kind != "partial-class":
            if self.share is not None:
                raise ConfigError(f"--share: only --kind partial-class keeps a class at a share, not {self.kind}")
            return
        if self.share is None or not np.isfinite(self.share) or not 0.0 < self.share < 1.0:
            raise ConfigError(f"--share {self.share}: partial-class keeps each class at a fraction of its share "
                              "strictly between 0 and 1, e.g. 0.3")


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
    dropped = _drawn_classes(class_probs.shape[1], classes, seed, "missing-class")
    rows = np.flatnonzero(~np.isin(class_probs.argmax(1), dropped))
    if len(rows) == 0:
        raise ConfigError("--kind missing-class: no rows left after removing the classes")
    return rows


def _drawn_classes(k: int, classes: int, seed: int, kind: str) -> np.ndarray:
    """`classes` of k class indices drawn with the seed (the same draw for missing- and partial-class)."""
    if not 0 < classes < k:
        raise ConfigError(f"--size: {kind} can take 1 to {k - 1} of {k} classes, not {classes}")
    return np.random.default_rng([seed, 0xC1A5]).choice(k, size=int(classes), replace=False)


def partial_kept_rows(labels: np.ndarray, k: int, classes: int, share: float, seed: int = 0) -> np.ndarray:
    """Indices of the rows a pilot keeps when each of `classes` classes (of k, drawn with the seed) falls to
    `share` of its share, the other classes filling up: every other row, and of a drawn class c with
    s_c = count_c / P, m_c = share · count_c · (1 − S) / (1 − share · S) of its rows (S = Σ s_c of the drawn
    classes), so that its share in the kept rows is share · s_c (what `partial_rows` draws)."""
    labels = np.asarray(labels)
    drawn = _drawn_classes(k, classes, seed, "partial-class")
    rng = np.random.default_rng([seed, 0x9A47])
    big_s = float(np.isin(labels, drawn).mean())
    keep = [np.flatnonzero(~np.isin(labels, drawn))]
    for c in drawn:
        of_c = np.flatnonzero(labels == c)
        m = int(round(share * len(of_c) * (1.0 - big_s) / (1.0 - share * big_s)))
        keep.append(rng.choice(of_c, size=min(m, len(of_c)), replace=False))
    return np.sort(np.concatenate(keep))


def partial_rows(rng: np.random.Generator, labels: np.ndarray, n: int, k: int, kept: float) -> np.ndarray:
    """n row indices drawn with replacement: round(kept · n · share of class k) of class k, the rest from the
    other classes (partial mode dropping on index draws of a labelled pool)."""
    of_k, others = np.flatnonzero(labels == k), np.flatnonzero(labels != k)
    m = int(round(kept * n * len(of_k) / len(labels)))
    rows = np.concatenate([of_k[rng.integers(0, len(of_k), m)], others[rng.integers(0, len(others), n - m)]])
    return rng.permutation(rows)


def shift(embedding: np.ndarray, size: float, baseline: np.ndarray) -> np.ndarray:
    """Embeddings [N, D] moved by √size along the first principal axis of `baseline` [M, D]."""
    cov = np.cov(baseline.astype(np.float64), rowvar=False)  # [D, D]
    axis = np.linalg.eigh(np.atleast_2d(cov))[1][:, -1]  # [D] unit vector of the largest variance
    return (embedding.astype(np.float64) + np.sqrt(size) * axis).astype(embedding.dtype)
