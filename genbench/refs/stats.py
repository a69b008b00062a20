"""Reference statistics files and precomputed features: a reference set as numbers, not images.

A reference statistics file (`genbench ref`) is a plain .npz, never pickled, for ONE feature space:
  mu          [D] float64      mean of the reference features
  sigma       [D, D] float64   covariance (N-1 normalisation, as pytorch-fid / torch-fidelity / clean-fid)
  sigma_sqrt  [D, D] float64   the symmetric PSD square root of sigma (cached: FD then needs one eigvalsh)
  n           int64 scalar     number of reference images
  record      str              JSON: format, format_version, extractor, extractor_version, preprocess,
                               weights, weights_sha256, source, source_fingerprint, n, genbench_version,
                               imported (true for files made by `genbench ref import`), protocol, ...
  features    [N, D] float32   optional (--keep-features): the "embedding" features, for k-NN metrics/KID
  <role>      [N, K] float32   optional: the extractor's other outputs (e.g. logits), with --keep-features
  images      [N, 3, H, W] uint8, labels [N] int64: optional (kept from an ADM reference batch's arr_0)
Foreign files (pytorch-fid/TTUR `mu`/`sigma`, ADM reference batches `mu`/`sigma`/`arr_0`, clean-fid
`mu`/`sigma` or `feats`) are converted by `import_stats`, which records what the user asserted and marks it.

PrecomputedFeatures: features already extracted (e.g. by a streaming or distributed pass), usable as
`samples` or `reference` of genbench.eval.run.evaluate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genbench.errors import ConfigError, InputError
from genbench.io import atomic_write

FORMAT = "genbench-refstats"
FORMAT_VERSION = "1"
EMBEDDING_KEY = "features"  # the "embedding" role is stored under this name
_FIXED = ("mu", "sigma", "sigma_sqrt", "n", "record", "images", "labels")
FOREIGN_FORMATS = ("pytorch-fid", "adm", "clean-fid")


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric PSD square root [D, D] float64 of a symmetric matrix (negative eigenvalues clipped to 0)."""
    w, v = np.linalg.eigh(np.asarray(sigma, dtype=np.float64))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def mean_cov(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] (N-1) in float64; the one formula the cache and metrics share."""
    x = np.asarray(features, dtype=np.float64)  # [N, D]
    cov = np.cov(x, rowvar=False, ddof=1) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    return x.mean(axis=0), np.atleast_2d(cov)


PSD_TOL = 1e-5  # eigenvalues of sigma must be >= -PSD_TOL * (largest |eigenvalue|)
SQRT_TOL = 1e-4  # ||sigma_sqrt @ sigma_sqrt - sigma||_F <= SQRT_TOL * ||sigma||_F


def real_array(a: Any, name: str, where: str) -> np.ndarray:
    """`a` as float64, refusing strings, objects and complex numbers (InputError naming the array)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{where}: {name} has dtype {arr.dtype}; statistics must be real numbers")
    return arr.astype(np.float64)


def largest_eigenvalue(sigma: np.ndarray, iters: int = 30) -> float:
    """A lower bound, tight to a few percent, on the largest |eigenvalue| (power iteration; local RNG)."""
    v = np.random.default_rng(0).normal(size=len(sigma))  # [D]
    lam = 0.0
    for _ in range(iters):
        w = sigma @ v
        lam = float(np.linalg.norm(w))
        if lam == 0.0:
            return 0.0
        v = w / lam
    return lam


def psd_violation(sigma: np.ndarray) -> float | None:
    """The most negative eigenvalue over the largest |eigenvalue| when it is below -PSD_TOL, else None.

    Fast path: a Cholesky factorisation of sigma + PSD_TOL * lambda_max * I exists iff no eigenvalue is
    below -PSD_TOL * lambda_max (one D^3/3 factorisation instead of an eigendecomposition); only a matrix
    that fails it gets the eigenvalues, for the message."""
    scale = largest_eigenvalue(sigma)
    if scale == 0.0:
        return None
    try:
        np.linalg.cholesky(sigma + PSD_TOL * scale * np.eye(len(sigma)))
        return None
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(sigma)  # [D] ascending
        top = max(float(np.abs(w).max()), 1e-300)
        return float(w[0]) / top if w[0] < -PSD_TOL * top else None


def sqrt_error(sigma_sqrt: np.ndarray, sigma: np.ndarray) -> float:
    """||S S - sigma||_F / ||sigma||_F (0 for the zero matrix and its root)."""
    num = float(np.linalg.norm(sigma_sqrt @ sigma_sqrt - sigma))
    return num / max(float(np.linalg.norm(sigma)), 1e-300) if num else 0.0


def _check_sigma(mu: np.ndarray, sigma: np.ndarray, where: str) -> None:
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise InputError(f"{where}: mu {list(mu.shape)} and sigma {list(sigma.shape)} do not fit ([D] and [D, D])")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise InputError(f"{where}: mu or sigma holds NaN or Inf")
    scale = max(float(np.abs(sigma).max()), 1e-300)
    if float(np.abs(sigma - sigma.T).max()) > 1e-6 * scale:
        raise InputError(f"{where}: sigma is not symmetric (max |sigma - sigma^T| = "
                         f"{float(np.abs(sigma - sigma.T).max()):.3g}); not a covariance matrix")
    bad = psd_violation(sigma)
    if bad is not None:
        raise InputError(f"{where}: sigma is not positive semi-definite (smallest eigenvalue {bad:.3g} x the "
                         f"largest, tolerance {PSD_TOL:g}); not a covariance matrix")


def check_sigma_sqrt(sigma_sqrt: Any, sigma: np.ndarray, where: str) -> np.ndarray:
    """A stored square root must be real, finite, symmetric, and square to sigma (within SQRT_TOL)."""
    s = real_array(sigma_sqrt, "sigma_sqrt", where)
    if s.shape != sigma.shape:
        raise InputError(f"{where}: sigma_sqrt {list(s.shape)} does not fit sigma {list(sigma.shape)}")
    if not np.isfinite(s).all():
        raise InputError(f"{where}: sigma_sqrt holds NaN or Inf")
    if float(np.abs(s - s.T).max()) > 1e-6 * max(float(np.abs(s).max()), 1e-300):
        raise InputError(f"{where}: sigma_sqrt is not symmetric; rebuild the file with `genbench ref`")
    err = sqrt_error(s, sigma)
    if err > SQRT_TOL:
        raise InputError(f"{where}: sigma_sqrt is not the square root of sigma (||sigma_sqrt^2 - sigma|| = "
                         f"{err:.3g} x ||sigma||, tolerance {SQRT_TOL:g}); rebuild the file with `genbench ref`")
    return s


AGREE_TOL = 1e-6  # kept rows vs stored mu / sigma: max |difference| <= AGREE_TOL x the largest |entry| (+ 1e-12)


def check_kept_rows(a: Any, role: str, n: int, where: str) -> None:
    """Kept feature rows: a real numeric [n, K] array with no NaN or Inf (InputError naming the role)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{where}: kept {role} rows have dtype {arr.dtype}; they must be real numbers")
    if arr.ndim != 2 or len(arr) != n:
        raise InputError(f"{where}: {role} has shape {list(arr.shape)}, expected [{n}, K]")
    if not np.isfinite(arr).all():
        raise InputError(f"{where}: kept {role} rows hold NaN or Inf")


def check_parts_agree(mu: np.ndarray, sigma: np.ndarray, rows: np.ndarray, where: str) -> None:
    """The parts of one statistics file must agree: mu and sigma recomputed from its kept embedding rows equal
    the stored ones within AGREE_TOL (FD reads mu and sigma, precision/recall read the rows: a file whose parts
    disagree would give each metric another reference)."""
    if rows.shape[1] != len(mu):
        raise InputError(f"{where}: kept rows have {rows.shape[1]} dimensions, mu {len(mu)}")
    m, c = mean_cov(rows)
    for name, stored, got in (("mu", mu, m), ("sigma", sigma, c)):
        gap = float(np.abs(stored - got).max())
        if gap > AGREE_TOL * max(float(np.abs(got).max()), float(np.abs(stored).max())) + 1e-12:
            raise InputError(f"{where}: the stored {name} disagrees with the kept feature rows (max difference "
                             f"{gap:.3g}); the parts of a statistics file must agree: rebuild it with `genbench ref`")


def check_n(n: Any, where: str) -> int:
    """The number of images behind the statistics: a positive integer."""
    arr = np.asarray(n)
    if arr.ndim != 0 or arr.dtype.kind not in "iu" or int(arr) < 1:
        raise InputError(f"{where}: n must be a positive integer (the number of reference images), got {n!r}")
    return int(arr)


@dataclass(frozen=True)
class RefStats:
    mu: np.ndarray  # [D] float64
    sigma: np.ndarray  # [D, D] float64
    n: int
    record: dict
    sigma_sqrt: np.ndarray | None = None  # [D, D] float64; computed when None
    features: dict[str, np.ndarray] = field(default_factory=dict)  # role -> float32 [N, K]
    images: np.ndarray | None = None  # uint8 [N, 3, H, W]
    labels: np.ndarray | None = None  # int64 [N]
    path: str | None = None

    def __post_init__(self) -> None:
        where = self.path or "reference statistics"
        object.__setattr__(self, "mu", real_array(self.mu, "mu", where))
        object.__setattr__(self, "sigma", real_array(self.sigma, "sigma", where))
        object.__setattr__(self, "n", check_n(self.n, where))
        _check_sigma(self.mu, self.sigma, where)
        if self.sigma_sqrt is None:
            object.__setattr__(self, "sigma_sqrt", psd_sqrt(self.sigma))
        else:
            object.__setattr__(self, "sigma_sqrt", check_sigma_sqrt(self.sigma_sqrt, self.sigma, where))
        for role, a in self.features.items():
            check_kept_rows(a, role, self.n, where)
        if "embedding" in self.features:
            check_parts_agree(self.mu, self.sigma, self.features["embedding"], where)

    @property
    def dim(self) -> int:
        return len(self.mu)

    @property
    def extractor(self) -> str:
        return str(self.record.get("extractor"))

    @property
    def fingerprint(self) -> str:
        return str(self.record.get("source_fingerprint"))

    def __len__(self) -> int:
        return self.n

    def describe(self) -> dict:
        return {"source": self.record.get("source"), "fingerprint": self.fingerprint, "n": self.n,
                "kind": "statistics", "statistics_file": self.path, "imported": bool(self.record.get("imported"))}

    @classmethod
    def from_features(cls, features: dict[str, np.ndarray], record: dict, keep: bool = True,
                      labels: np.ndarray | None = None) -> "RefStats":
        emb = features["embedding"]  # [N, D] float32
        mu, sigma = mean_cov(emb)
        kept = {r: np.asarray(a, dtype=np.float32) for r, a in features.items()} if keep else {}
        rec = dict(record, format=FORMAT, format_version=FORMAT_VERSION, n=len(emb), dim=int(emb.shape[1]))
        return cls(mu, sigma, len(emb), rec, features=kept, labels=labels if keep else None)

    def save(self, path: str | Path) -> Path:
        arrays: dict[str, Any] = {"mu": self.mu, "sigma": self.sigma, "sigma_sqrt": self.sigma_sqrt,
                                  "n": np.int64(self.n), "record": np.str_(json.dumps(self.record, sort_keys=True))}
        for role, a in self.features.items():
            arrays[EMBEDDING_KEY if role == "embedding" else role] = np.asarray(a, dtype=np.float32)
        if self.images is not None:
            arrays["images"] = self.images
        if self.labels is not None:
            arrays["labels"] = np.asarray(self.labels, dtype=np.int64)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path) -> "RefStats":
        z = _read_npz(path)
        if "record" not in z:
            raise InputError(f"{path}: a statistics file without a genbench record (keys {', '.join(sorted(z))}); "
                             f"convert it first: genbench ref import {path} --format "
                             f"{'|'.join(FOREIGN_FORMATS)} --extractor NAME --out ref.npz")
        try:
            record = json.loads(str(z["record"]))
            n = check_n(z["n"], str(path))
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise InputError(f"{path}: unreadable statistics record ({type(e).__name__}: {e})") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise InputError(f"{path}: not a {FORMAT} file (record format {record.get('format')!r})"
                             if isinstance(record, dict) else f"{path}: record is not a JSON object")
        if str(record.get("format_version")) != FORMAT_VERSION:
            raise InputError(f"{path}: statistics format version {record.get('format_version')!r}; this genbench "
                             f"reads version {FORMAT_VERSION}")
        feats = {("embedding" if k == EMBEDDING_KEY else k): v for k, v in z.items() if k not in _FIXED}
        return cls(z["mu"], z["sigma"], n, record, z.get("sigma_sqrt"), feats, z.get("images"),
                   z.get("labels"), str(path))

    def check_extractor(self, name: str, version: str, preprocess: str, weights_sha256: str | None,
                        where: str = "--ref") -> None:
        """Refuse statistics made under another extractor, version, preprocessing or weights."""
        rec = self.record
        for what, want, got in (("extractor", name, rec.get("extractor")),
                                ("extractor version", version, rec.get("extractor_version")),
                                ("preprocessing", preprocess, rec.get("preprocess")),
                                ("weights sha256", weights_sha256, rec.get("weights_sha256"))):
            if what == "weights sha256" and (want is None or got is None):
                continue
            if want != got:
                raise ConfigError(f"{where} {self.path}: statistics were made with {what} {got!r}, but this "
                                  f"evaluation uses {what} {want!r}; rebuild them with `genbench ref`")


def _read_npz(path: str | Path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise InputError(f"{path}: contains pickled objects, which genbench refuses to load") from None
        raise InputError(f"{path}: not a valid .npz file ({e})") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    except Exception as e:  # zipfile.BadZipFile and friends
        raise InputError(f"{path}: corrupt or truncated .npz ({type(e).__name__}: {e})") from None


def is_stats_file(spec: Any) -> bool:
    """True for an existing .npz holding mu and sigma but no images (a statistics file, ours or foreign)."""
    if not isinstance(spec, (str, Path)) or not str(spec).endswith(".npz") or not Path(spec).is_file():
        return False
    try:
        with open(spec, "rb") as f, np.load(f, allow_pickle=False) as z:
            keys = set(z.files)
    except Exception:
        return False  # let the sample-set reader report it
    return {"mu", "sigma"} <= keys and ("record" in keys or "arr_0" not in keys)


@dataclass(frozen=True)
class PrecomputedFeatures:
    """Features already extracted, as a sample or reference set of `evaluate`.

    features: {extractor name: {role: float32 [N, D]}} with the roles that extractor outputs
              ("embedding", and "logits" for classifiers); every array has the same N.
    fingerprint: content fingerprint of the images the features came from (SampleSet.fingerprint).
    source: a human-readable origin. labels: int64 [N] class labels, if any.
    traits: the set's declared traits (e.g. "stacked-channels"), as a dataset or manifest declares them.
    Metrics that need images (SSIM) or inputs derived from images are skipped for such a set.
    """

    features: dict[str, dict[str, np.ndarray]]
    fingerprint: str
    source: str
    labels: np.ndarray | None = None
    traits: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        sizes = {f"{e}.{r}": np.shape(a) for e, roles in self.features.items() for r, a in roles.items()}
        if not sizes:
            raise InputError(f"{self.source}: PrecomputedFeatures holds no features")
        bad = {k: s for k, s in sizes.items() if len(s) != 2}
        ns = {s[0] for s in sizes.values()}
        if bad or len(ns) != 1:
            raise InputError(f"{self.source}: precomputed features must be 2-D with one row count; got {sizes}")
        if self.labels is not None and len(self.labels) != len(self):
            raise InputError(f"{self.source}: {len(self.labels)} labels for {len(self)} feature rows")

    def __len__(self) -> int:
        return next(iter(next(iter(self.features.values())).values())).shape[0]

    def describe(self) -> dict:
        return {"source": self.source, "fingerprint": self.fingerprint, "n": len(self), "kind": "features"}
