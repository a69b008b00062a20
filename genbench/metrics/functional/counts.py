"""Row-count replicates: a Pool of one set's feature rows, and FD and precision/recall of its resamples.

A bootstrap replicate of a set is a multiset of its rows: counts c [P] over the P pool rows (a
`Resample`). FD and the k-NN metrics depend on the replicate only through c, so each replicate costs
index arithmetic on quantities computed once per pool instead of a fresh pass over [N, N] distances:

- FD: the one FD resampling engine, genbench.metrics.functional.fd_fast (`fd_of_counts`), the
  reference being itself a resample (`Pool.reference`: one draw's moments and root, reused by every set
  scored against that same draw).
- precision / recall (Kynkäänniemi et al. 2019, `<=`, genbench.metrics.functional.knn): the k-NN radius
  of a pool row in the replicate is the (k+1)-th smallest distance in the multiset that holds its own
  copies at distance 0, found by walking the row's pre-sorted neighbour list with cumulative counts;
  membership tests a fixed cross-distance matrix against those radii.
- density / coverage (Naeem et al. 2020, strict `<`): the same radii of the real replicate; density
  counts, for each drawn fake row, the drawn real balls that hold it (each real copy a ball of its own);
  coverage asks, for each drawn real row, whether its nearest *drawn* fake lies inside its ball.
- KD/KID: genbench.metrics.functional.kd_counts (its subsets' kernels, computed once for all the
  replicates asked for together; the pools only give the rows).
Distances come from genbench.metrics.knn.distance_blocks, so they are the metric's own numbers. One
difference from materialising the resample: there, two copies of a row are two rows whose computed
distance is ~1e-8·‖x‖ instead of 0 (see knn.py); the values differ only if a radius ties at that level.
Pools above MAX_POOL rows are not accelerated by the k-NN formulas (their [P, P] distance matrix would
not fit); KD's subsets need no such matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from genbench.metrics.functional.fd_fast import CountedRows, FixedReference, fd_of_counts
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
    """Feature rows of one set (the pool a replicate resamples) and, built on first use, what its
    replicates need: centred rows (FD), sorted neighbour lists (k-NN radii), distances to other pools."""

    raw: np.ndarray  # [P, D] the rows as given (float32 stays float32 until a formula needs float64)
    _x: np.ndarray | None = field(default=None, repr=False)  # [P, D] float64, made on first use
    _rows: CountedRows | None = field(default=None, repr=False)
    _ref: tuple[np.ndarray, FixedReference] | None = field(default=None, repr=False)  # last reference draw
    _dist: np.ndarray | None = field(default=None, repr=False)  # [P, P]
    _order: np.ndarray | None = field(default=None, repr=False)  # [P, M] neighbour indices, nearest first
    _sorted: np.ndarray | None = field(default=None, repr=False)  # [P, M] their distances
    _cross: dict = field(default_factory=dict, repr=False)  # id(other) -> (other, [P_other, P])

    @classmethod
    def of(cls, features: np.ndarray) -> "Pool":
        return cls(np.asarray(features))

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def x(self) -> np.ndarray:
        """[P, D] float64 rows (the exact upcast of `raw`)."""
        if self._x is None:
            self._x = np.asarray(self.raw, dtype=np.float64)
        return self._x

    @property
    def rows(self) -> CountedRows:
        if self._rows is None:
            self._rows = CountedRows(self.x)
        return self._rows

    def reference(self, c: np.ndarray) -> FixedReference:
        """The FD reference of the resample c [P]; the last draw is kept, so the sets scored against one
        draw share its moments and root."""
        if self._ref is None or not np.array_equal(self._ref[0], c):
            self._ref = (np.array(c, copy=True), FixedReference.of_counts(self.rows, c))
        return self._ref[1]

    def distances_to(self, other: "Pool") -> np.ndarray:
        """[P_other, P] distances from every row of `other` to every row of this pool (kept)."""
        if id(other) not in self._cross:
            self._cross[id(other)] = (other, _distances(other.x, self.x))  # other kept alive: its id stays
        return self._cross[id(other)][1]

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


def materialise(counts: np.ndarray) -> np.ndarray:
    """Row indices [Σc] of the multiset with counts [P]: each pool row repeated as often as it is drawn."""
    return np.repeat(np.arange(len(counts)), counts.astype(np.int64))


@dataclass(frozen=True)
class Resample:
    """One replicate of a set: row counts [P] (float64, repeats allowed) over a pool."""

    pool: Pool
    counts: np.ndarray  # [P]

    def rows(self) -> np.ndarray:
        """The replicate's row indices, materialised."""
        return materialise(self.counts)


def fd(fake: Resample, real: Resample) -> float:
    """FD of the fake replicate against the real replicate."""
    return fd_of_counts(fake.pool.rows, fake.counts, real.pool.reference(real.counts))


def _balls(r: Resample, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(drawn rows [P'], their k-NN radii within the replicate [P'])."""
    nz = np.flatnonzero(r.counts)
    return nz, r.pool.radii(r.counts, k)[nz]


def precision(fake: Resample, real: Resample, k: int) -> float:
    """Fraction of the fake replicate inside the k-NN balls (<=) of the real replicate. Undrawn real rows have
    radius −1, so the whole distance matrix is compared (no gather of the drawn rows: 2.7× faster)."""
    rr = real.pool.radii(real.counts, k)  # [P_real], −1 where not drawn
    fake_in = (fake.pool.distances_to(real.pool) <= rr[:, None]).any(axis=0)  # [P_fake]
    return float(fake.counts @ fake_in / fake.counts.sum())


def density(fake: Resample, real: Resample, k: int) -> float:
    """(1/k) · mean over the fake replicate of the number of real-replicate balls (<) holding it."""
    nz, rr = _balls(real, k)
    inside = fake.pool.distances_to(real.pool)[nz] < rr[:, None]  # [P_real', P_fake]
    held = real.counts[nz] @ inside  # [P_fake] balls (with multiplicity) holding each fake row
    return float(fake.counts @ held / (k * fake.counts.sum()))


def coverage(fake: Resample, real: Resample, k: int) -> float:
    """Fraction of the real replicate whose ball (<) holds its nearest drawn fake."""
    nz, rr = _balls(real, k)
    d = fake.pool.distances_to(real.pool)[nz]  # [P_real', P_fake]
    nearest = d[:, np.flatnonzero(fake.counts)].min(axis=1)  # [P_real'] nearest drawn fake
    return float(real.counts[nz] @ (nearest < rr) / real.counts.sum())


def recall(fake: Resample, real: Resample, k: int) -> float:
    """Fraction of the real replicate inside the k-NN balls (<=) of the fake replicate (radius −1: not drawn)."""
    rf = fake.pool.radii(fake.counts, k)  # [P_fake]
    real_in = (fake.pool.distances_to(real.pool) <= rf[None, :]).any(axis=1)  # [P_real]
    return float(real.counts @ real_in / real.counts.sum())
