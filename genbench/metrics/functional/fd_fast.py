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
once (`FixedReference.of_counts`: weighted moments, one `eigh` for its root) and scores both models
against that one draw.

Exact replicate from row counts c [N] (Σc = n; a resample is a multiset of rows). Let X0 = X − μ (the
rows centred once at their full mean), m = X0ᵀc/n and Y = X0 R:
  μf* = μ + m,  tr Σf* = (Σ cᵢ‖x0ᵢ‖² − n‖m‖²)/(n−1),
  R Σf* R = (Yᵀ diag(c) Y − n (Rm)(Rm)ᵀ)/(n−1),
a weighted Gram of the ~63% distinct rows (a symmetric rank-k update, `dsyrk`, ≈ 0.63·n·d²/2
multiply-adds, on rows gathered into a reused buffer), a rank-1 `dsyr` and one `eigvalsh` (torch.linalg:
LAPACK from MKL in the torch wheels, 2.7× faster than numpy's OpenBLAS dsyevd at 2048-d on one thread).
The same Gram on X0 itself gives Σ* of a resampled reference. Against a fixed reference Y is computed once
(n·d² work); when the reference is resampled too its root changes every replicate, so the fixed-root
trick (Y cached) cannot apply: the drawn rows are rotated by that replicate's R (x0ᵢ R, 2·n'·d² work),
still cheaper than forming Σf* and then R Σf* R (4·d³). Either way the value equals the full
recomputation (np.cov of the materialised resample, then FD) up to rounding; tests/unit/test_fd_fast.py
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
    """The reference side of FD, fixed across the FDs computed against it."""

    mu: np.ndarray  # [D] float64
    trace: float  # tr Σr
    root: np.ndarray  # [D, D] float64, R = Σr^½

    @classmethod
    def of(cls, mu: np.ndarray, sigma: np.ndarray, root: np.ndarray | None = None) -> "FixedReference":
        mu, sigma = check_stats(mu, sigma, "reference statistics")
        r = psd_sqrt(sigma) if root is None else np.asarray(root, dtype=np.float64)
        return cls(mu, float(np.trace(sigma)), r)

    @classmethod
    def of_counts(cls, rows: "CountedRows", c: np.ndarray) -> "FixedReference":
        """The reference resample with row counts c [N] over `rows` (its root from one eigh)."""
        return cls.of(*rows.moments(c))

    def distance(self, mu_f: np.ndarray, sigma_f: np.ndarray) -> float:
        """FD of a generated set's statistics (mean [D], covariance [D, D]) against this reference:
        tr((Σf Σr)^½) = Σ √λ(R Σf R)."""
        rsr = self.root @ sigma_f @ self.root  # [D, D] R Σf R
        return self.fd_from(mu_f, float(np.trace(sigma_f)), rsr)

    def fd_from(self, mu_f: np.ndarray, trace_f: float, rsr_upper: np.ndarray) -> float:
        """FD from the generated mean [D], tr Σf and R Σf R [D, D] (its upper triangle is read)."""
        diff = mu_f - self.mu
        return float(diff @ diff + trace_f + self.trace - 2.0 * _trace_sqrt_eig(rsr_upper))


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
        self._gram: np.ndarray | None = None  # work buffers, allocated on first use
        self._buf: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return self.x0.shape[1]

    def shift(self, c: np.ndarray) -> tuple[float, np.ndarray]:
        """(n = Σc, m = X0ᵀc / n [D]): the resample's size and its mean minus the full mean."""
        n = float(c.sum())
        if n < 2:
            raise ConfigError(f"FD bootstrap: a resample needs at least 2 rows, got {n:g}")
        return n, (c @ self.x0) / n

    def moments(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean [D], N−1 covariance [D, D]) of the resample c: (X0ᵀ diag(c) X0 − n m mᵀ)/(n−1)."""
        n, m = self.shift(c)
        gram = self.weighted_gram(c, 1.0 / (n - 1.0))
        gram = dsyr(-n / (n - 1.0), m, a=gram, lower=0, overwrite_a=1)
        return self.mu + m, np.triu(gram) + np.triu(gram, 1).T  # a fresh full symmetric [D, D]

    def weighted_gram(self, c: np.ndarray, alpha: float, rows: np.ndarray | None = None,
                      rotate: np.ndarray | None = None) -> np.ndarray:
        """Upper triangle [D, D] of alpha Σ cᵢ zᵢ zᵢᵀ over the drawn rows (cᵢ > 0), zᵢ the row i of `rows`
        ([N, D]; None: X0), times `rotate` [D, D] if given. Symmetric rank-k updates of CHUNK rows at a
        time, gathered into buffers reused across calls (no fresh pages per replicate); the result lives in
        a buffer that the next call overwrites."""
        src, drawn = self.x0 if rows is None else rows, np.flatnonzero(c)
        if self._gram is None:
            self._gram = np.zeros((self.dim, self.dim), order="F")  # [D, D] float64
            self._buf = np.empty((min(CHUNK, self.n), self.dim))  # [chunk, D] float64
        gram = self._gram
        gram.fill(0.0)
        for start in range(0, len(drawn), CHUNK):
            sel = drawn[start:start + CHUNK]
            part = self._buf[:len(sel)]
            if rotate is None:
                np.take(src, sel, axis=0, out=part)
            else:
                np.matmul(src[sel], rotate, out=part)
            part *= np.sqrt(c[sel])[:, None]  # [c, D]
            gram = dsyrk(alpha, part.T, beta=1.0, c=gram, trans=0, overwrite_c=1)
        return gram


def fd_of_counts(rows: CountedRows, c: np.ndarray, ref: FixedReference, y: np.ndarray | None = None) -> float:
    """FD of the resample with row counts c [N] of `rows` against `ref` (formulas: module docstring).

    y: the rows in the reference root's basis, X0 R [N, D], when the reference is fixed across replicates
    (computed once by the caller); None (the reference is itself a resample) rotates the drawn rows only.
    """
    if rows.dim != len(ref.mu):
        raise ConfigError(f"FD bootstrap: features of dimension {rows.dim} do not fit a {len(ref.mu)}-d reference")
    n, m = rows.shift(c)
    tr_f = (c @ rows.sq - n * (m @ m)) / (n - 1.0)
    gram = rows.weighted_gram(c, 1.0 / (n - 1.0), y, None if y is not None else ref.root)  # Yᵀ diag(c) Y/(n−1)
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
