"""Tiled nearest-neighbour machinery: k-NN radii, nearest distances, manifold membership, pair counts.

Used by precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020), duplicates
(Arora & Zhang 2017), copying / C_T (Meehan et al. 2020) and the CMMD kernel sums. The reference
implementation matched is the `prdc` package (NAVER, `prdc.compute_prdc`), which holds full N x N
distance matrices; here nothing larger than a [tile, tile] block is ever held. Squared distances are
‖a‖² + ‖b‖² − 2abᵀ clamped at 0, in `Tiling.dtype` (float64 by default) on `Tiling.device`, so the same
code runs on CPU and CUDA. Within one set the diagonal (a point and itself) is exactly 0; two distinct
but identical rows come out at ~sqrt(eps)·‖x‖ (about 1e-8·‖x‖ in float64) rather than 0, the usual
cost of the matrix-product form (sklearn's euclidean_distances, used by `prdc`, has the same).

Memory: `Tiling.rows` keeps float32 features as they are (1/2 of a float64 copy; 50,000 × 2048 rows
are 0.4 GB instead of 0.8 GB) and the passes upcast one tile at a time to `Tiling.dtype`. The upcast is
exact, so the distances are the same bits as from a float64 copy of the whole set.

k-th neighbour radius, self excluded: the (k+1)-th smallest distance of a row *including* its own zero,
as `prdc` does, so duplicated points count as neighbours at distance 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from genbench.errors import ConfigError, NotEnoughSamplesError

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class Tiling:
    """How nearest-neighbour work is blocked: rows per tile, distance dtype, device."""

    tile: int = 2048
    dtype: torch.dtype = torch.float64
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_config(cls, config: object) -> "Tiling":
        """Build from a MetricConfig's tile_size, distance_dtype and device fields."""
        name = getattr(config, "distance_dtype", "float64")
        if name not in _DTYPES:
            raise ConfigError(f"distance_dtype: unknown dtype {name!r} (use float64 or float32)")
        tile = int(getattr(config, "tile_size", 2048))
        if tile < 1:
            raise ConfigError(f"tile_size: must be >= 1, got {tile}")
        return cls(tile, _DTYPES[name], torch.device(getattr(config, "device", "cpu")))

    def tensor(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """[N, D] array -> contiguous tensor in this tiling's dtype and device."""
        if not torch.is_tensor(x):
            a = np.asarray(x)
            x = torch.from_numpy(a if a.flags.writeable else a.copy())
        t = x
        if t.ndim != 2:
            raise ConfigError(f"features: expected a 2-D [N, D] array, got shape {tuple(t.shape)}")
        return t.to(device=self.device, dtype=self.dtype).contiguous()

    def rows(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """[N, D] rows as stored for the tiled passes: float32 input stays float32 when the distances are
        float64 (each tile is upcast exactly when used); anything else as `tensor`."""
        if self.dtype == torch.float64 and (getattr(x, "dtype", None) in (np.float32, torch.float32)):
            if not torch.is_tensor(x):
                a = np.asarray(x)
                x = torch.from_numpy(a if a.flags.writeable else a.copy())
            if x.ndim != 2:
                raise ConfigError(f"features: expected a 2-D [N, D] array, got shape {tuple(x.shape)}")
            return x.to(device=self.device).contiguous()
        return self.tensor(x)


def _sq_norms(x: torch.Tensor, dtype: torch.dtype, tile: int) -> torch.Tensor:
    """[N] squared row norms in `dtype`, a tile of rows at a time (each row's sum is the same either way)."""
    if x.dtype == dtype:
        return (x * x).sum(dim=1)
    out = torch.empty(len(x), dtype=dtype, device=x.device)
    for i0, i1 in _spans(len(x), tile):
        xi = x[i0:i1].to(dtype)
        out[i0:i1] = (xi * xi).sum(dim=1)
    return out


def _spans(n: int, tile: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, tile):
        yield start, min(start + tile, n)


def _sq_block(xi: torch.Tensor, ni: torch.Tensor, yj: torch.Tensor, nj: torch.Tensor) -> torch.Tensor:
    d2 = ni[:, None] + nj[None, :] - 2.0 * (xi @ yj.T)  # [ti, tj]
    return d2.clamp_(min=0.0)


def _zero_self(d2: torch.Tensor, i0: int, j0: int, fill: float = 0.0) -> None:
    """Within one set, set the entries that pair a point with itself (global i == j) to `fill`."""
    lo, hi = max(i0, j0), min(i0 + d2.shape[0], j0 + d2.shape[1])
    if lo < hi:
        r = torch.arange(lo, hi, device=d2.device)
        d2[r - i0, r - j0] = fill


def distance_blocks(x: torch.Tensor, y: torch.Tensor | None, tile: int, squared: bool = False,
                    upper: bool = False, dtype: torch.dtype | None = None) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield (row start, column start, [ti, tj] distances); y=None means x against itself (diagonal 0).

    upper=True (only with y=None) yields just the blocks on or above the diagonal (column start >= row
    start): the distance matrix is symmetric, so callers update rows and columns from one block.
    dtype: the distances' dtype (default x's); stored rows of a narrower dtype are upcast a tile at a time.
    """
    same = y is None
    y = x if same else y
    dtype = dtype or x.dtype
    nx = _sq_norms(x, dtype, tile)
    ny = nx if same else _sq_norms(y, dtype, tile)
    for i0, i1 in _spans(len(x), tile):
        xi = x[i0:i1].to(dtype)
        for j0, j1 in _spans(len(y), tile):
            if upper and same and j0 < i0:
                continue
            yj = y[j0:j1].to(dtype)
            d2 = _sq_block(xi, nx[i0:i1], yj, ny[j0:j1])
            if same:
                _zero_self(d2, i0, j0)
            yield i0, j0, d2 if squared else d2.sqrt_()


def _merge_topk(best: torch.Tensor, rows: slice, d: torch.Tensor) -> None:
    cand = torch.cat([best[rows], d], dim=1)  # [ti, kmax+1+tj]
    best[rows] = torch.topk(cand, best.shape[1], dim=1, largest=False, sorted=True).values


def knn_radii(x: torch.Tensor, ks: tuple[int, ...], tile: int,
              dtype: torch.dtype | None = None) -> dict[int, torch.Tensor]:
    """Distance of every row to its k-th nearest other row, for each k in ks, in one tiled pass."""
    kmax = max(ks)
    if len(x) < kmax + 1:
        raise NotEnoughSamplesError(f"k-NN radii with k={kmax} need at least {kmax + 1} points, got {len(x)}")
    best = torch.full((len(x), kmax + 1), float("inf"), dtype=dtype or x.dtype, device=x.device)  # [N, kmax+1]
    for i0, j0, d in distance_blocks(x, None, tile, upper=True, dtype=dtype):
        _merge_topk(best, slice(i0, i0 + d.shape[0]), d)
        if j0 != i0:  # the mirrored block serves the column rows
            _merge_topk(best, slice(j0, j0 + d.shape[1]), d.T)
    return {k: best[:, k].clone() for k in ks}  # (k+1)-th smallest incl. self = k-th other


def nearest_distance(x: torch.Tensor, y: torch.Tensor | None, tile: int,
                     dtype: torch.dtype | None = None) -> torch.Tensor:
    """[N_x] distance from each row of x to its nearest row of y (y=None: nearest *other* row of x)."""
    if y is None and len(x) < 2:
        raise NotEnoughSamplesError(f"nearest other point needs at least 2 points, got {len(x)}")
    out = torch.full((len(x),), float("inf"), dtype=dtype or x.dtype, device=x.device)
    for i0, j0, d in distance_blocks(x, y, tile, upper=y is None, dtype=dtype):
        if y is None:
            _zero_self(d, i0, j0, fill=float("inf"))
            cols = slice(j0, j0 + d.shape[1])
            out[cols] = torch.minimum(out[cols], d.min(dim=0).values)
        rows = slice(i0, i0 + d.shape[0])
        out[rows] = torch.minimum(out[rows], d.min(dim=1).values)
    return out


@dataclass
class ManifoldCounts:
    """One pass over real x fake distances. Each field is None unless its radius was given."""

    fake_in_real: torch.Tensor | None = None  # [N_fake] bool: d(fake, some real) <= that real's radius
    fake_density: torch.Tensor | None = None  # [N_fake] int64: #reals with d(fake, real) < real radius
    real_in_fake: torch.Tensor | None = None  # [N_real] bool: d(real, some fake) <= that fake's radius
    real_nearest: torch.Tensor | None = None  # [N_real] distance to the nearest fake


def manifold_pass(real: torch.Tensor, fake: torch.Tensor, tile: int, *,
                  real_radii_le: torch.Tensor | None = None, real_radii_lt: torch.Tensor | None = None,
                  fake_radii_le: torch.Tensor | None = None, nearest: bool = False,
                  dtype: torch.dtype | None = None) -> ManifoldCounts:
    """Membership counts for precision (<=), density (<), recall (<=) and coverage in one tiled pass."""
    out = _empty_counts(real, fake, real_radii_le, real_radii_lt, fake_radii_le, nearest, dtype or real.dtype)
    for i0, j0, d in distance_blocks(real, fake, tile, dtype=dtype):  # d: [ti real, tj fake]
        ri, fj = slice(i0, i0 + d.shape[0]), slice(j0, j0 + d.shape[1])
        if real_radii_le is not None:
            out.fake_in_real[fj] |= (d <= real_radii_le[ri, None]).any(dim=0)
        if real_radii_lt is not None:
            out.fake_density[fj] += (d < real_radii_lt[ri, None]).sum(dim=0)
        if fake_radii_le is not None:
            out.real_in_fake[ri] |= (d <= fake_radii_le[None, fj]).any(dim=1)
        if nearest:
            out.real_nearest[ri] = torch.minimum(out.real_nearest[ri], d.min(dim=1).values)
    return out


def _empty_counts(real: torch.Tensor, fake: torch.Tensor, le: torch.Tensor | None, lt: torch.Tensor | None,
                  fake_le: torch.Tensor | None, nearest: bool, dtype: torch.dtype) -> ManifoldCounts:
    dev = real.device
    return ManifoldCounts(
        None if le is None else torch.zeros(len(fake), dtype=torch.bool, device=dev),
        None if lt is None else torch.zeros(len(fake), dtype=torch.int64, device=dev),
        None if fake_le is None else torch.zeros(len(real), dtype=torch.bool, device=dev),
        None if not nearest else torch.full((len(real),), float("inf"), dtype=dtype, device=dev))


def count_pairs_below(x: torch.Tensor, threshold: float, tile: int) -> int:
    """Number of unordered pairs i < j of rows of x with distance strictly below threshold."""
    total = 0
    for i0, j0, d in distance_blocks(x, None, tile, upper=True):
        gi = torch.arange(i0, i0 + d.shape[0], device=d.device)[:, None]
        gj = torch.arange(j0, j0 + d.shape[1], device=d.device)[None, :]
        total += int(((d < threshold) & (gj > gi)).sum())
    return total


def kernel_sum(x: torch.Tensor, y: torch.Tensor | None, fn: Callable[[torch.Tensor], torch.Tensor],
               tile: int) -> float:
    """Σ fn(‖x_i − y_j‖²) over all pairs, tiled; y=None sums over i != j within x (diagonal left out)."""
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    for i0, j0, d2 in distance_blocks(x, y, tile, squared=True):
        k = fn(d2)  # [ti, tj]
        if y is None:
            _zero_self(k, i0, j0)
        total += k.sum(dtype=torch.float64)
    return float(total)
