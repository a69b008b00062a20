"""KD/KID replicates from row counts: each subset's three kernel matrices once, every replicate a weighted sum.

The point value (genbench.metrics.functional.kernel.kernel_inception_distance, torch-fidelity's convention)
averages the unbiased MMD² with k(x,y) = (xᵀy/d + 1)³ over S seeded subsets: fake rows I_s and real rows
J_s, m of each, drawn without replacement. Resampling the images with replacement gives each pool row a
count (c for the fake pool, r for the real one). A replicate keeps the subsets as sets of *pool rows* and
takes each subset's rows with their multiplicity in the replicate: the multiset A_s holds row i ∈ I_s
c_i times, B_s holds row j ∈ J_s r_j times. Its unbiased MMD² is, with a = c[I_s], b = r[J_s],
n_a = Σa, n_b = Σb and K the kernel matrices of the subset's rows,

    MMD²(A_s, B_s) = (aᵀKxx a − Σ a_i k_ii) / (n_a(n_a−1)) + (bᵀKyy b − Σ b_j k_jj) / (n_b(n_b−1))
                     − 2 aᵀKxy b / (n_a n_b)

(pairs of distinct positions; two copies of one row pair at k_ii, exactly as two equal rows would), and
the replicate is the mean over subsets (subsets with n_a < 2 or n_b < 2 are left out of it). With every
count 1 this is the point value. So the kernels (S·3·m²·d multiply-adds, the point's own cost) are
computed once for all the replicates asked for together (a metric's own interval, or every replicate of a
paired comparison), and each replicate adds S·3·m² multiply-adds: B = 200 replicates cost about one more
point.

The interval this gives covers the images' sampling noise with the subsets' rows held as pool rows; a
materialised resample would redraw its subsets among the resample's positions instead (a different
Monte Carlo of the same estimand: both average the unbiased MMD² of the resample over subsets). The
direct, materialised form of this replicate is `kd_materialised` (tests check one against the other).

Precision (`PRECISIONS`): each subset's kernels are computed in the precision the metric names, exactly as
its point computes them (functional.kernel: "float32" is torch-fidelity's, clean-fid's and Bińkowski et
al.'s numerics and `kid`'s default; "float64" is `kd`'s default), then upcast to float64 for the weighted
sums. With float64 kernels every count 1 gives the point value to float64 rounding; with float32 kernels to
float32 rounding, since the point sums its float32 kernels in float32 as torch-fidelity does.
"""
from __future__ import annotations

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError

PRECISIONS = ("float32", "float64")  # the dtype a subset's kernels are computed in (module docstring)


def precision_dtype(precision: str) -> type[np.floating]:
    """np.float32 or np.float64 for a name of PRECISIONS; ConfigError naming the allowed values otherwise."""
    if precision not in PRECISIONS:
        raise ConfigError(f"kd/kid precision: unknown {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return np.float32 if precision == "float32" else np.float64


def subset_rows(n_fake: int, n_real: int, subsets: int, m: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The point's subsets: (fake rows [m], real rows [m]) per subset, from the generator the point uses."""
    rng = np.random.default_rng([seed, 0x41D])
    return [(rng.choice(n_fake, m, replace=False), rng.choice(n_real, m, replace=False)) for _ in range(subsets)]


def subset_size(n_fake: int, n_real: int, subset_size: int) -> int:
    m = min(subset_size, n_fake, n_real)
    if m < 2:
        raise NotEnoughSamplesError(f"kid: subsets need at least 2 rows; got fake={n_fake}, real={n_real}")
    return m


def poly_kernel(x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(xᵀy/d + 1)³: [m, D] x [m', D] -> [m, m'] in x's dtype (float32 or float64), into `out` if given.

    In place on one buffer (numpy's syrk when y is x). float32: torch-fidelity's `kernel_poly` bit for bit,
    (x @ y.T * (1/d) + 1) ** 3 (1/d rounded to float32); float64: (x @ y.T / d + 1) ** 3 as genbench always
    computed it. For d a power of two (Inception's 2048) 1/d is exact and the two scalings agree."""
    k = np.matmul(x, y.T, out=out)  # [m, m']
    if k.dtype == np.float32:
        k *= 1.0 / x.shape[1]
    else:
        k /= x.shape[1]
    k += 1.0
    k **= 3
    return k


def _within(k: np.ndarray, w: np.ndarray, n: np.ndarray) -> np.ndarray:
    """[B] Σ over pairs of distinct positions of the multisets with weights w [B, m], divided by n(n−1)."""
    quad = np.einsum("bi,bi->b", w @ k, w)  # [B] wᵀKw
    return (quad - w @ np.diag(k)) / (n * (n - 1.0))


def _kernel64(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[m, m'] poly_kernel in x's dtype, upcast to float64 for the weighted sums."""
    return poly_kernel(x, y).astype(np.float64, copy=False)


def weighted_mmd2(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[B] unbiased MMD² of one subset's rows x [m, D], y [m', D] (kernels in their dtype, float32 or float64;
    sums in float64) for B replicates that hold them a [B, m] and b [B, m'] times (NaN where a side holds
    fewer than 2 rows)."""
    na, nb = a.sum(axis=1), b.sum(axis=1)  # [B]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.einsum("bi,bi->b", a @ _kernel64(x, y), b) / (na * nb)
        val = _within(_kernel64(x, x), a, na) + _within(_kernel64(y, y), b, nb) - 2.0 * cross
    return np.where((na >= 2) & (nb >= 2), val, np.nan)


def kd_of_counts(fake: np.ndarray, real: np.ndarray, rows: list[tuple[np.ndarray, np.ndarray]],
                 c: np.ndarray, r: np.ndarray, precision: str = "float64") -> np.ndarray:
    """[B] KD (raw MMD², mean over subsets) of B replicates given as counts c [B, P_fake], r [B, P_real] over
    the pools fake [P_fake, D], real [P_real, D] (any float dtype; each subset's rows cast to `precision`,
    the kernels' dtype). One subset's kernels at a time: memory O(m² + B·m)."""
    dtype = precision_dtype(precision)
    vals = np.empty((len(rows), len(c)))  # [S, B]
    for s, (i, j) in enumerate(rows):
        x, y = np.asarray(fake[i], dtype=dtype), np.asarray(real[j], dtype=dtype)
        vals[s] = weighted_mmd2(x, y, c[:, i], r[:, j])
    ok = np.isfinite(vals)
    with np.errstate(invalid="ignore"):
        return np.where(ok.any(axis=0), np.where(ok, vals, 0.0).sum(axis=0) / ok.sum(axis=0), np.nan)


def kd_materialised(fake: np.ndarray, real: np.ndarray, rows: list[tuple[np.ndarray, np.ndarray]],
                    c: np.ndarray, r: np.ndarray, precision: str = "float64") -> float:
    """The same replicate computed directly (for tests): each subset's multiset materialised as repeated rows
    (cast to `precision`, the kernels' dtype) and its unbiased MMD² summed in float64 pair by pair of
    distinct positions."""
    dtype = precision_dtype(precision)
    vals = []
    for i, j in rows:
        xs = np.repeat(np.asarray(fake[i], dtype), c[i].astype(np.int64), axis=0)
        ys = np.repeat(np.asarray(real[j], dtype), r[j].astype(np.int64), axis=0)
        if len(xs) < 2 or len(ys) < 2:
            continue
        kxx, kyy, kxy = _kernel64(xs, xs), _kernel64(ys, ys), _kernel64(xs, ys)
        na, nb = len(xs), len(ys)
        vals.append((kxx.sum() - np.trace(kxx)) / (na * (na - 1)) + (kyy.sum() - np.trace(kyy)) / (nb * (nb - 1))
                    - 2.0 * kxy.sum() / (na * nb))
    return float(np.mean(vals)) if vals else float("nan")
