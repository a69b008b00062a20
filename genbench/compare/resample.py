"""FD and precision/recall of bootstrap resamples, from row counts over a fixed pool of feature rows.

A bootstrap replicate of a set is a multiset of its rows: counts c [P] over the P pool rows. FD and the
k-NN metrics depend on the replicate only through c, so each replicate costs index arithmetic on
quantities computed once per pool instead of a fresh pass over [N, N] distances:

- FD: weighted mean μ = cᵀX / n and covariance Σ = (X − μ)ᵀ diag(c) (X − μ) / (n − 1), exactly the
  N − 1 covariance of the materialised resample, then genbench.metrics.functional.fd.frechet_distance.
- precision / recall (Kynkäänniemi et al. 2019, `<=`, genbench.metrics.functional.knn): the k-NN radius
  of a pool row in the replicate is the (k+1)-th smallest distance in the multiset that holds its own
  copies at distance 0, found by walking the row's pre-sorted neighbour list with cumulative counts;
  membership tests a fixed cross-distance matrix against those radii.
Distances come from genbench.metrics.knn.distance_blocks, so they are the metric's own numbers. One
difference from materialising the resample: there, two copies of a row are two rows whose computed
distance is ~1e-8·‖x‖ instead of 0 (see knn.py); the values differ only if a radius ties at that level.
Pools above MAX_POOL rows are not accelerated (the [P, P] distance matrix would not fit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from genbench.metrics.functional.fd import frechet_distance
from genbench.metrics.knn import distance_blocks

MAX_POOL = 6000
NEIGHBOURS = 48  # pre-sorted neighbours kept per row; rows that need more are finished exactly


def _distances(x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """[Nx, Ny] float64 Euclidean distances (y None: x against itself, diagonal 0), by the k-NN code."""
    tx = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    ty = None if y is None else torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64))
    out = np.empty((len(x), len(x) if y is None else len(y)), dtype=np.float64)
    for i0, j0, d in distance_blocks(tx, ty, 4096):
        out[i0:i0 + d.shape[0], j0:j0 + d.shape[1]] = d.numpy()
    return out


@dataclass
class Pool:
    """Feature rows of one set (the pool a replicate resamples) and what its replicates need."""

    x: np.ndarray  # [P, D] float64
    _dist: np.ndarray | None = field(default=None, repr=False)  # [P, P]
    _order: np.ndarray | None = field(default=None, repr=False)  # [P, M] neighbour indices, nearest first
    _sorted: np.ndarray | None = field(default=None, repr=False)  # [P, M] their distances

    @classmethod
    def of(cls, features: np.ndarray) -> "Pool":
        return cls(np.asarray(features, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.x)

    def stats(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean [D], N−1 covariance [D, D]) of the multiset with counts c [P]."""
        nz = np.flatnonzero(c)  # only rows drawn at least once
        w, x = c[nz], self.x[nz]  # [P'], [P', D]
        n = float(w.sum())
        mu = (w @ x) / n  # [D]
        xc = x - mu  # [P', D]
        cov = (xc * w[:, None]).T @ xc / (n - 1.0)  # [D, D]
        return mu, cov

    def _neighbours(self) -> None:
        if self._order is None:
            self._dist = _distances(self.x, None)
            m = min(NEIGHBOURS, len(self.x))
            part = np.argpartition(self._dist, m - 1, axis=1)[:, :m]  # [P, m] unordered
            d = np.take_along_axis(self._dist, part, axis=1)
            o = np.argsort(d, axis=1, kind="stable")
            self._order, self._sorted = np.take_along_axis(part, o, axis=1), np.take_along_axis(d, o, axis=1)

    def radii(self, c: np.ndarray, k: int) -> np.ndarray:
        """[P] k-NN radius of every pool row within the multiset c (−1 where c == 0: it holds nothing)."""
        self._neighbours()
        nz = np.flatnonzero(c)
        cs = np.cumsum(c[self._order[nz]], axis=1)  # [P', M]
        pos = np.argmax(cs >= k + 1, axis=1)
        r = np.full(len(c), -1.0)
        r[nz] = self._sorted[nz, pos]
        for i in np.flatnonzero(cs[:, -1] < k + 1):  # the rare row whose neighbours lie further out
            p = nz[i]
            order = np.argsort(self._dist[p], kind="stable")
            r[p] = self._dist[p, order[int(np.argmax(np.cumsum(c[order]) >= k + 1))]]
        return r


def fd(a: Pool, ca: np.ndarray, ref_stats: tuple[np.ndarray, np.ndarray]) -> float:
    """FD of the replicate ca of pool a against reference statistics (mean, cov)."""
    return frechet_distance(*a.stats(ca), *ref_stats)


@dataclass
class CrossPair:
    """Candidate pool × reference pool distances, for precision/recall of their replicates."""

    fake: Pool
    real: Pool
    cross: np.ndarray  # [P_real, P_fake]

    @classmethod
    def of(cls, fake: Pool, real: Pool) -> "CrossPair":
        return cls(fake, real, _distances(real.x, fake.x))

    def precision(self, cf: np.ndarray, cr: np.ndarray, k: int) -> float:
        """Fraction of the fake replicate cf inside the k-NN balls of the real replicate cr."""
        nz = np.flatnonzero(cr)
        rr = self.real.radii(cr, k)[nz]  # [P_real']
        fake_in = (self.cross[nz] <= rr[:, None]).any(axis=0)  # [P_fake]
        return float(cf @ fake_in / cf.sum())

    def recall(self, cf: np.ndarray, cr: np.ndarray, k: int) -> float:
        """Fraction of the real replicate cr inside the k-NN balls of the fake replicate cf."""
        nz = np.flatnonzero(cf)
        rf = self.fake.radii(cf, k)[nz]  # [P_fake']
        real_in = (self.cross[:, nz] <= rf[None, :]).any(axis=1)  # [P_real]
        return float(cr @ real_in / cr.sum())

    def precision_recall(self, cf: np.ndarray, cr: np.ndarray, k: int) -> tuple[float, float]:
        return self.precision(cf, cr, k), self.recall(cf, cr, k)
