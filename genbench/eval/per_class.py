"""Per-class metrics: FD and precision/recall within each class that a classifier assigns.

A model can score well overall while drawing one class badly (or rarely); the overall FD averages that
away. Here every generated and reference image is labelled by the classifier's argmax (the digits
classifier on the digits suites, as the class-histogram metrics do), and within each class c the
generated images with label c are compared with the reference images with label c:

  fd_c        Frechet distance of the two class-c feature sets (classifier embedding space);
  precision_c, recall_c  k-NN precision / recall (Kynkaanniemi et al. 2019) of the two class-c sets;
  share_c     the fraction of generated images labelled c (a mode-collapse view: compare ref_share_c).

Class-c sets hold tens of images where the reference is small (digits-test: about 36 per class), so
per-class FD is strongly biased upwards and only comparable between models at the same N; classes with
fewer than k + 1 items on either side get NaN. Pure maths on precomputed features; `per_class_for_samples`
extracts them (digits-classifier embedding + logits) for a dict of sample sets.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from genbench.metrics.functional.fd import frechet_distance_features
from genbench.metrics.functional.knn import precision_recall

PR_K = 3
COLUMNS = ("class", "n", "share", "ref_share", "fd", "precision", "recall")


def per_class_metrics(fake_emb: np.ndarray, fake_logits: np.ndarray, real_emb: np.ndarray,
                      real_logits: np.ndarray, k: int = PR_K) -> list[dict[str, float]]:
    """One row per class: fake [N, D] / [N, K] and real [M, D] / [M, K] embeddings and logits."""
    num_classes = fake_logits.shape[1]
    fy, ry = fake_logits.argmax(axis=1), real_logits.argmax(axis=1)  # [N], [M] assigned classes
    rows = []
    for c in range(num_classes):
        f, r = np.asarray(fake_emb[fy == c], np.float64), np.asarray(real_emb[ry == c], np.float64)
        row = {"class": c, "n": int(len(f)), "share": len(f) / max(len(fy), 1), "ref_share": len(r) / max(len(ry), 1),
               "fd": float("nan"), "precision": float("nan"), "recall": float("nan")}
        if min(len(f), len(r)) > k:
            with warnings.catch_warnings():  # fewer items than dimensions is the expected case (see above)
                warnings.simplefilter("ignore", UserWarning)
                row["fd"] = frechet_distance_features(f, r)
            row["precision"], row["recall"] = precision_recall(r, f, k=k)
        rows.append(row)
    return rows


def per_class_for_samples(samples: dict[str, Any], reference: Any, device: str = "cpu",
                          extractor: str = "digits-classifier",
                          cache_dir: str | Path | None = None) -> dict[str, list[dict[str, float]]]:
    """{name: per-class rows} for image sample sets (SampleSet, path or array) against `reference`; features
    through the same cache-aware path as evaluate() (`cache_dir`: the feature cache, None for none)."""
    from genbench.eval.inputs import ExtractOptions, cached_features
    from genbench.features.cache import FeatureCache
    from genbench.features.extract import build_extractor
    from genbench.sets.samples import open_samples

    ext, cache = build_extractor(extractor, device), FeatureCache(cache_dir)
    real = cached_features(ext, open_samples(reference), cache, ExtractOptions())
    out = {}
    for name, s in samples.items():
        fake = cached_features(ext, open_samples(s), cache, ExtractOptions())
        out[name] = per_class_metrics(fake["embedding"], fake["logits"], real["embedding"], real["logits"])
    return out
