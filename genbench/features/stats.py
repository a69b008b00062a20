"""FeatureStats: streaming float64 sums for mean and covariance, mergeable across shards/processes.

cov uses N-1 (as torch-fidelity and pytorch-fid do). Reference statistics are FeatureStats saved to .npz.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.errors import InputError, NotEnoughSamplesError
from genbench.io import atomic_write


@dataclass
class FeatureStats:
    n: int
    total: np.ndarray  # [D] float64: sum of features
    outer: np.ndarray  # [D, D] float64: sum of x x^T

    @classmethod
    def empty(cls, dim: int) -> "FeatureStats":
        return cls(0, np.zeros(dim), np.zeros((dim, dim)))

    @classmethod
    def from_features(cls, feats: np.ndarray) -> "FeatureStats":
        x = np.asarray(feats, dtype=np.float64)  # [N, D]
        return cls(len(x), x.sum(axis=0), x.T @ x)

    def update(self, feats: np.ndarray) -> "FeatureStats":
        return self.merge(FeatureStats.from_features(feats))

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        if self.total.shape != other.total.shape:
            raise InputError(f"cannot merge statistics of dims {self.total.shape} and {other.total.shape}")
        return FeatureStats(self.n + other.n, self.total + other.total, self.outer + other.outer)

    @property
    def mean(self) -> np.ndarray:
        return self.total / max(self.n, 1)

    @property
    def cov(self) -> np.ndarray:
        if self.n < 2:
            raise NotEnoughSamplesError(f"covariance needs at least 2 samples, got {self.n}")
        mu = self.mean
        return (self.outer - self.n * np.outer(mu, mu)) / (self.n - 1)

    def save(self, path: str | Path) -> Path:
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, n=np.int64(self.n), total=self.total, outer=self.outer)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path) -> "FeatureStats":
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(int(z["n"]), z["total"], z["outer"])
        except Exception as e:
            raise InputError(f"{path}: not a genbench statistics file ({type(e).__name__}: {e})") from None
