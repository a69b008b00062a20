"""The one FD resampling engine: FD against a reference whose covariance root is known, and FD of any
resample given as row counts, with the reference either held fixed or resampled too.

FD = ‖μf−μr‖² + tr Σf + tr Σr − 2 tr((Σf Σr)^½) (Heusel et al. 2017). With R = Σr^½ (symmetric PSD,
cached in a reference-statistics file as `cov_sqrt`, or one `eigh`) the eigenvalues of Σf Σr equal those
of the symmetric PSD matrix R Σf R, so tr((Σf Σr)^½) = Σ √λᵢ(R Σf R): one `eigvalsh` per FD, no `sqrtm`
(Higham's Schur method, complex arithmetic) and no non-symmetric `eigvals` (torch-fidelity's
`metric_fid.fid_statistics_to_metric`). Negative rounding noise in λ is clipped to 0, as in
genbench.metrics.functional.fd.

Bootstrap (which sets are resampled, and why). A metric's own FD interval resamples the generated set
only; the reference is held fixed, both when it comes as a statistics file (it has no rows to resample)
and when its features are given. Reasons: (1) the interval of an FD must not depend on whether the same
reference was handed over as features or as a statistics file; (2) a leaderboard scores every model
against one and the same reference sample, so that sample's noise is shared by all of them and does
not move a comparison, while the generated sample's noise is what differs between candidates; (3) it
makes the exact replicate cheap. The interval therefore answers "how far would FD move if another N
samples were drawn from this model, against this reference". The paired comparison of two models
(genbench.compare.paired) resamples the shared reference too: each of its replicates draws the reference
once (`FixedReference.of_counts`) and scores both models against that one draw.

A resampled reference is held in the range of its pool's centred rows (`CountedRows.basis`, Q [D, r],
computed once per pool): every resample's covariance lies there, so tr((Σf Σr*)^½) = Σ √λ(Lᵀ (QᵀΣf*Q) L)
with Qᵀ Σr* Q = L Lᵀ (one Cholesky, r × r; its root by eigh when it is nearly singular). Features with dead
units or repeated channels (the digits classifier: 32 of 64 units; pixels: 3 equal channels) have r well
below D, and the exact null directions no longer add the square roots of eigh's rounding noise (about
1e-8·√scale each) to the replicate: on digits-default's classifier space a paired gate's FD interval moved
by 2e-7 relative against the full-D root path (tests/unit/test_fd_fast.py checks the replicate against
the nuclear norm of Af Arᵀ, which has no such noise).

Exact replicate from row counts c [N] (Σc = n; a resample is a multiset of rows). Let X0 = X − μ (the
rows centred once at their full mean), m = X0ᵀc/n and Y = X0 R:
  μf* = μ + m,  tr Σf* = (Σ cᵢ‖x0ᵢ‖² − n‖m‖²)/(n−1),
  R Σf* R = (Yᵀ diag(c) Y − n (Rm)(Rm)ᵀ)/(n−1),
a weighted Gram of the ~63% distinct rows (a symmetric rank-k update, `dsyrk`, ≈ 0.63·n·d²/2
multiply-adds, on rows gathered into a reused buffer), a rank-1 `dsyr` and one `eigvalsh` (torch.linalg:
LAPACK from MKL in the torch wheels, 2.7× faster than numpy's OpenBLAS dsyevd at 2048-d on one thread).
The same Gram on X0 itself gives Σ* of a resampled reference. Against a fixed reference Y is computed once
(n·d² work); when the reference is resampled too its factor changes every replicate, so Σf* is formed in
the reference's basis (rows X0 Q, projected once per pool pair) and congruent with L (4·r³ work). Either
way the value equals the full recomputation (np.cov of the materialised resample, then FD) up to rounding; tests/unit/test_fd_fast.py
checks 1e-9.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from scipy.linalg.blas import dsyr, dsyrk

from genbench.errors import ConfigError
from genbench.numerics import small_linalg

CHOL_MIN_PIVOT = 1e-8  # Cholesky path only if every pivot² >= this × the largest variance of Σ
RANGE_TOL = 1e-12  # a direction of the centred rows with variance below this × the largest is null
CHUNK = 8192  # rows per rank-k update: bounds the scaled copy to CHUNK × D float64


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric PSD square root [D, D] float64 of a covariance (eigh; negative eigenvalues clipped)."""
    s = np.array(sigma, dtype=np.float64)  # a writable copy for torch
    with small_linalg(len(s)):
        w, v = (t.numpy() for t in torch.linalg.eigh(torch.from_numpy(s)))  # w: [D], v: [D, D]
    r = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return (r + r.T) / 2.0  # exactly symmetric


def _trace_sqrt_eig(m_upper: np.ndarray) -> float:
    """Σ √λ over the eigenvalues of a symmetric matrix whose upper triangle holds it (negatives -> 0)."""
    with small_linalg(len(m_upper)):
        lam = torch.linalg.eigvalsh(torch.from_numpy(m_upper), UPLO="U").numpy()  # [D]
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def check_stats(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ConfigError(f"{name}: mean {mu.shape} and covariance {sigma.shape} do not fit together")
    return mu, sigma


def frechet_distance_rooted(mu_f: np.ndarray, sigma_f: np.ndarray, mu_r: np.ndarray, sigma_r: np.ndarray,
                            root_r: np.ndarray) -> float:
    """FD from both sets' statistics and the reference covariance's cached root R = Σr^½."""
    mu_f, sigma_f = check_stats(mu_f, sigma_f, "generated statistics")
    mu_r, sigma_r = check_stats(mu_r, sigma_r, "reference statistics")
    root_r = np.asarray(root_r, dtype=np.float64)
    if mu_f.shape != mu_r.shape or root_r.shape != sigma_r.shape:
        raise ConfigError(f"FD: dimensions disagree: generated {mu_f.shape}, reference {mu_r.shape}, "
                          f"reference root {root_r.shape}")
    return FixedReference(mu_r, float(np.trace(sigma_r)), root_r).distance(mu_f, sigma_f)


@dataclass(frozen=True)
class FixedReference:
    """The reference side of FD, fixed across the FDs computed against it: its covariance's symmetric root
    R = Σr^½, or (a resampled reference, `of_counts`) its lower Cholesky factor L, Σr = L Lᵀ."""

    mu: np.ndarray  # [D] float64
    trace: float  # tr Σr
    root: np.ndarray | None  # [r, r] float64, R = Σr^½ (in `basis` when given; None when `low` is given)
    low: np.ndarray | None = None  # [r, r] float64 lower-triangular L with Σr = L Lᵀ (in `basis` when given)
    basis: np.ndarray | None = None  # [D, r] orthonormal columns spanning Σr's range (None: all of R^D)

    @classmethod
    def of(cls, mu: np.ndarray, sigma: np.ndarray, root: np.ndarray | None = None) -> "FixedReference":
        mu, sigma = check_stats(mu, sigma, "reference statistics")
        r = psd_sqrt(sigma) if root is None else np.asarray(root, dtype=np.float64)
        return cls(mu, float(np.trace(sigma)), r)

    @classmethod
    def of_counts(cls, rows: "CountedRows", c: np.ndarray) -> "FixedReference":
        """The reference resample with row counts c [N] over `rows`, held in the range of the pool's centred
        rows (every resample's covariance lies there): S = Qᵀ Σr* Q [r, r] by its Cholesky factor (one
        `potrf`), or its root (one eigh) when S is (nearly) singular."""
        basis = rows.basis()
        n, m = rows.shift(c)
        s = rows.covariance_in(c, n, m, basis)  # [r, r]
        trace = float((c @ rows.sq - n * (m @ m)) / (n - 1.0))  # tr Σr*
        low = cholesky_lower(s)
        return cls(rows.mu + m, trace, psd_sqrt(s) if low is None else None, low, basis)

    def congruence(self, s: np.ndarray) -> np.ndarray:
        """Lᵀ S L, or R S R [r, r], of a full symmetric S [r, r] given in this reference's basis: its
        eigenvalues are those of Σf Σr."""
        return self.low.T @ s @ self.low if self.low is not None else self.root @ s @ self.root

    def distance(self, mu_f: np.ndarray, sigma_f: np.ndarray) -> float:
        """FD of a generated set's statistics (mean [D], covariance [D, D]) against this reference:
        tr((Σf Σr)^½) = Σ √λ(R Σf R)."""
        if self.root is None or self.basis is not None:
            raise ConfigError("FD: a resampled reference scores row counts only (fd_of_counts)")
        rsr = self.root @ sigma_f @ self.root  # [D, D] R Σf R
        return self.fd_from(mu_f, float(np.trace(sigma_f)), rsr)

    def fd_from(self, mu_f: np.ndarray, trace_f: float, rsr_upper: np.ndarray) -> float:
        """FD from the generated mean [D], tr Σf and R Σf R (or Lᵀ Σf L) [D, D] (its upper triangle is read)."""
        diff = mu_f - self.mu
        return float(diff @ diff + trace_f + self.trace - 2.0 * _trace_sqrt_eig(rsr_upper))


def cholesky_lower(sigma: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor [D, D] of a symmetric Σ [D, D], or None when Σ is singular or numerically close
    to it (a pivot² below CHOL_MIN_PIVOT × the largest variance): the eigh path is kept there."""
    s = np.asarray(sigma, dtype=np.float64)
    try:
        with small_linalg(len(s)):
            low = np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        return None
    return low if well_pivoted(np.diagonal(low), np.diagonal(s)) else None


def well_pivoted(low_diag: np.ndarray, sigma_diag: np.ndarray) -> bool:
    """Whether a Cholesky factor is usable: every pivot² (its diagonal [D] squared) at least CHOL_MIN_PIVOT
    × the largest variance (Σ's diagonal [D]); the one test of the cold FD and the resampled reference."""
    scale = float(np.max(sigma_diag)) if len(sigma_diag) else 0.0
    return scale > 0 and float(np.min(np.asarray(low_diag) ** 2)) >= CHOL_MIN_PIVOT * scale


class CountedRows:
    """A set's feature rows [N, D], centred once at their mean, and the moments of any resample of them
    given as row counts c [N] (float64, Σc = n): the shared part of both uses of the engine."""

    def __init__(self, features: np.ndarray) -> None:
        x = np.array(features, dtype=np.float64)  # [N, D] own copy, centred in place below
        if x.ndim != 2:
            raise ConfigError(f"FD resampling: features must be [N, D], got shape {x.shape}")
        self.n = len(x)
        self.mu = x.mean(axis=0)  # [D]
        x -= self.mu
        self.x0 = x  # [N, D]
        self.sq = np.einsum("ij,ij->i", x, x)  # [N] ‖x0ᵢ‖²
        self._work: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # width -> (gram, rows) buffers, on first use
        self._basis: tuple[np.ndarray | None] | None = None  # (basis or None,), computed on first use
        self._projected: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id(basis) -> (basis, X0 basis [N, r])

    @property
    def dim(self) -> int:
        return self.x0.shape[1]

    def shift(self, c: np.ndarray) -> tuple[float, np.ndarray]:
        """(n = Σc, m = X0ᵀc / n [D]): the resample's size and its mean minus the full mean."""
        n = float(c.sum())
        if n < 2:
            raise ConfigError(f"FD bootstrap: a resample needs at least 2 rows, got {n:g}")
        return n, (c @ self.x0) / n

    def basis(self) -> np.ndarray | None:
        """[D, r] orthonormal basis of the range of the centred rows (the eigenvectors of X0ᵀX0 whose
        eigenvalue exceeds RANGE_TOL × the largest), or None when that is all of R^D. Dead units and
        repeated channels leave exact null directions; eigh puts rounding noise (about 1e-16 of the
        largest) there, whose square roots FD would otherwise add up."""
        if self._basis is None:
            g = dsyrk(1.0, self.x0.T, trans=0)  # upper [D, D] X0ᵀ X0
            with small_linalg(self.dim):
                w, v = (t.numpy() for t in torch.linalg.eigh(torch.from_numpy(np.ascontiguousarray(g)), UPLO="U"))
            keep = w > RANGE_TOL * max(float(w.max()), 0.0)  # [D]
            self._basis = (None if keep.all() else np.ascontiguousarray(v[:, keep]),)
        return self._basis[0]

    def projected(self, basis: np.ndarray | None) -> np.ndarray:
        """[N, r] the centred rows in `basis` (X0 itself when None), kept per basis (the basis kept alive
        with it, so its id stays its own)."""
        if basis is None:
            return self.x0
        if id(basis) not in self._projected:
            self._projected[id(basis)] = (basis, self.x0 @ basis)
        return self._projected[id(basis)][1]

    def covariance_in(self, c: np.ndarray, n: float, m: np.ndarray, basis: np.ndarray | None) -> np.ndarray:
        """Qᵀ Σ* Q [r, r] (full symmetric, fresh) of the resample c (size n, mean shift m [D]) in `basis` Q
        [D, r] (None: Σ* itself): (Zᵀ diag(c) Z − n (Qᵀm)(Qᵀm)ᵀ)/(n−1), Z = X0 Q."""
        gram = self.weighted_gram(c, 1.0 / (n - 1.0), self.projected(basis))
        mq = m if basis is None else m @ basis  # [r]
        gram = dsyr(-n / (n - 1.0), mq, a=gram, lower=0, overwrite_a=1)
        return np.triu(gram) + np.triu(gram, 1).T

    def moments(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean [D], N−1 covariance [D, D]) of the resample c: (X0ᵀ diag(c) X0 − n m mᵀ)/(n−1)."""
        n, m = self.shift(c)
        return self.mu + m, self.covariance_in(c, n, m, None)

    def weighted_gram(self, c: np.ndarray, alpha: float, rows: np.ndarray | None = None) -> np.ndarray:
        """Upper triangle [W, W] of alpha Σ cᵢ zᵢ zᵢᵀ over the drawn rows (cᵢ > 0), zᵢ the row i of `rows`
        ([N, W]; None: X0). Symmetric rank-k updates of CHUNK rows at a time, gathered into buffers reused
        across calls (no fresh pages per replicate); the result lives in a buffer that the next call of the
        same width overwrites."""
        src, drawn = self.x0 if rows is None else rows, np.flatnonzero(c)
        width = src.shape[1]
        if width not in self._work:
            self._work[width] = (np.zeros((width, width), order="F"),  # [W, W] float64
                                 np.empty((min(CHUNK, self.n), width)))  # [chunk, W] float64
        gram, buf = self._work[width]
        gram.fill(0.0)
        for start in range(0, len(drawn), CHUNK):
            sel = drawn[start:start + CHUNK]
            part = buf[:len(sel)]
            np.take(src, sel, axis=0, out=part)
            part *= np.sqrt(c[sel])[:, None]  # [c, W]
            gram = dsyrk(alpha, part.T, beta=1.0, c=gram, trans=0, overwrite_c=1)
        return gram


def fd_of_counts(rows: CountedRows, c: np.ndarray, ref: FixedReference, y: np.ndarray | None = None) -> float:
    """FD of the resample with row counts c [N] of `rows` against `ref` (formulas: module docstring).

    y: the rows in the reference root's basis, X0 R [N, D], when the reference is fixed across replicates
    (computed once by the caller); None: Σf* in the reference's basis, then Lᵀ Σf* L (or R Σf* R).
    """
    if rows.dim != len(ref.mu):
        raise ConfigError(f"FD bootstrap: features of dimension {rows.dim} do not fit a {len(ref.mu)}-d reference")
    n, m = rows.shift(c)
    tr_f = (c @ rows.sq - n * (m @ m)) / (n - 1.0)
    if y is None:  # a resampled reference: Σf* in its basis, then one congruence
        return ref.fd_from(rows.mu + m, tr_f, ref.congruence(rows.covariance_in(c, n, m, ref.basis)))
    gram = rows.weighted_gram(c, 1.0 / (n - 1.0), y)  # Yᵀ diag(c) Y/(n−1)
    gram = dsyr(-n / (n - 1.0), ref.root @ m, a=gram, lower=0, overwrite_a=1)  # − n (Rm)(Rm)ᵀ/(n−1)
    return ref.fd_from(rows.mu + m, tr_f, gram)


class GeneratedResampler:
    """Exact FD bootstrap replicates of a generated set [N, D] against a FixedReference (see module doc)."""

    def __init__(self, features: np.ndarray, ref: FixedReference) -> None:
        self.rows = CountedRows(features)
        if self.rows.dim != len(ref.mu):
            raise ConfigError(f"FD bootstrap: features {self.rows.x0.shape} do not fit a {len(ref.mu)}-d reference")
        self.ref = ref
        self.y = self.rows.x0 @ ref.root  # [N, D] rows in the reference root's basis, once

    def value(self, index: np.ndarray) -> float:
        """FD of the resample X[index] (indices with repetition) against the reference."""
        c = np.bincount(index, minlength=self.rows.n).astype(np.float64)  # [N] multiplicities
        return fd_of_counts(self.rows, c, self.ref, self.y)

    def values(self, draws: Sequence[Mapping[str, np.ndarray]], set_name: str = "fake") -> list[float]:
        return [self.value(d[set_name]) for d in draws]
