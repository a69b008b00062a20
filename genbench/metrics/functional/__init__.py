"""Pure metric maths: numpy/torch arrays in, floats out. One import point for every metric family.

The maths lives in topic files, each naming its papers and the reference implementation it matches:
`fd` (FD, FD∞, IS), `kernel` (KID, CMMD, Vendi, CLIP score), `knn` (precision/recall, density/coverage,
duplicates, copying; tiled by genbench.metrics.knn), `ct` (C_T), `ssim` (SSIM), `modes` (2-D mixtures,
class coverage, stacked digits, NDB/JS), `ndb` (NDB's dimension subset). Resampling engines: `fd_fast`
(FD from a cached reference root, and FD of any resample given as row counts, reference fixed or
resampled) and `counts` (pools of rows, and FD and precision/recall of their row-count replicates).
May import: numpy, scipy, torch, `genbench.errors`, `genbench.numerics` (thread control of small
decompositions) and the k-NN tiling `genbench.metrics.knn`; nothing that
does IO.
"""
from genbench.metrics.functional.ct import c_t, mann_whitney_z
from genbench.metrics.functional.fd import (FD_INF_MIN_SAMPLES, FD_INF_POINTS, IS_MODES, fd_inf_sizes,
                                            fd_infinity, feature_stats, frechet_distance,
                                            frechet_distance_features, inception_score, inception_score_of,
                                            inception_score_rows,
                                            log_softmax, trace_sqrt_product)
from genbench.metrics.functional.kernel import (CMMD_ESTIMATORS, clip_cosines, clip_score, cmmd,
                                                kernel_inception_distance, mmd2_gaussian, mmd2_unbiased_gaussian,
                                                mmd2_unbiased_poly, vendi_score, vendi_score_direct)
from genbench.metrics.functional.knn import (birthday_probability, copy_flags, copy_rate, density_coverage, duplicates,
                                             nn_threshold, prdc, precision_recall)
from genbench.metrics.functional.modes import (class_coverage, js_divergence, kl_to_uniform, mixture_modes,
                                               ndb_js, stacked_modes, two_proportion_p)
from genbench.metrics.functional.ndb import NDB_MAX_FULL_DIMS, ndb_dimensions
from genbench.metrics.functional.ssim import random_pairs, ssim_mean, ssim_pairs, window_size

__all__ = [
    "CMMD_ESTIMATORS", "FD_INF_MIN_SAMPLES", "FD_INF_POINTS", "IS_MODES", "NDB_MAX_FULL_DIMS",
    "birthday_probability", "c_t", "class_coverage", "clip_cosines", "clip_score", "cmmd", "copy_flags", "copy_rate",
    "density_coverage", "duplicates", "fd_inf_sizes", "fd_infinity", "feature_stats", "frechet_distance",
    "frechet_distance_features", "inception_score", "inception_score_of", "inception_score_rows", "log_softmax", "js_divergence",
    "kernel_inception_distance",
    "kl_to_uniform", "mann_whitney_z", "mixture_modes", "mmd2_gaussian", "mmd2_unbiased_gaussian",
    "mmd2_unbiased_poly", "ndb_dimensions", "ndb_js", "nn_threshold", "prdc", "precision_recall",
    "random_pairs", "ssim_mean", "ssim_pairs", "stacked_modes", "trace_sqrt_product", "two_proportion_p",
    "vendi_score", "vendi_score_direct", "window_size",
]
