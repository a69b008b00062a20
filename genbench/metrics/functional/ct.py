"""C_T data-copying statistic (Meehan, Chaudhuri & Dasgupta 2020, "A Non-Parametric Test to Detect
Data-Copying in Generative Models"), with the conventions of the authors' code.

Reference: casey-meehan/data-copying `data_copying_tests.py` (`Zu`, `Zu_cells`, `C_T`), copied verbatim
into layer6ai-labs/dgm-eval `dgm_eval/metrics/ct.py`. The published C_T values come from it:
- cells π: k-means fitted on the training set; every set is labelled by the fitted model's `predict`
  (training points too, as `T_labels = KM_clf.predict(train)`);
- L(x) = distance from x to its nearest *training point of the same cell* (`Zu` fits its
  NearestNeighbors on `T_cell_i` only), Euclidean;
- per cell, U = #{(fake j, held-out i): L(fake j) > L(held-out i)} + ½ #ties (scipy's `mannwhitneyu(LQm,
  LPn)` statistic), Z_U = (U − (mn/2 − 0.5)) / sqrt(mn(m+n+1)/12) — the "0.5 continuity correction" of
  the reference moves the centre, not |U − centre|, so it is a constant +0.5 shift of U;
- a cell enters Π_τ only with strictly more than τ generated samples (`Qm_of_pi > tau`, tau = 20/m in the
  authors' MNIST experiments and dgm-eval: more than 20 generated samples);
- C_T = Σ_{π∈Π_τ} P_n(π) Z_U(π) / Σ_{π∈Π_τ} P_n(π), P_n(π) the held-out fraction in π.

Known differences: the reference raises ValueError when a cell has no held-out or no training sample;
genbench gives such a cell weight P_n(π) = 0 (it cannot contribute anyway) and reports how many there
were. The k-means here is seeded (`random_state=seed`, n_init=1); the reference's is unseeded.
C_T ≪ 0: generated samples sit closer to the training set than fresh data does (data copying).
"""
from __future__ import annotations

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics.knn import Tiling, nearest_distance


def mann_whitney_z(fake_d: np.ndarray, held_d: np.ndarray, continuity: bool = True) -> float:
    """Z_U of Meehan et al.: U counts (fake, held-out) pairs with the fake distance larger (ties ½);
    centred at mn/2 − 0.5 (the reference code's continuity correction) unless `continuity` is False."""
    from scipy.stats import rankdata

    m, n = len(fake_d), len(held_d)
    ranks = rankdata(np.concatenate([fake_d, held_d]), method="average")  # 1-based, ties share the mean
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    centre = m * n / 2.0 - (0.5 if continuity else 0.0)
    return float((u - centre) / np.sqrt(m * n * (m + n + 1) / 12.0))


def _in_cell_distances(x: np.ndarray, x_cells: np.ndarray, train: np.ndarray, t_cells: np.ndarray,
                       cells: int, tiling: Tiling) -> np.ndarray:
    """[len(x)] distance from each row to its nearest training row of the same cell (nan: empty cell)."""
    out = np.full(len(x), np.nan)
    for cell in range(cells):
        rows, tr = x_cells == cell, train[t_cells == cell]
        if rows.any() and len(tr):
            out[rows] = nearest_distance(tiling.tensor(x[rows]), tiling.tensor(tr), tiling.tile).cpu().numpy()
    return out


def c_t(fake: np.ndarray, train: np.ndarray, heldout: np.ndarray, cells: int, seed: int = 0,
        tau: int = 20, tiling: Tiling = Tiling()) -> dict:
    """C_T with `cells` seeded k-means cells on train; cells need > `tau` generated samples."""
    from sklearn.cluster import KMeans

    if cells < 1 or tau < 0:
        raise ConfigError(f"c_t: need cells >= 1 and tau >= 0; got cells={cells}, tau={tau}")
    fake, train, heldout = (np.asarray(a, dtype=np.float64) for a in (fake, train, heldout))
    if min(len(train), len(heldout), len(fake)) < cells:
        raise NotEnoughSamplesError(f"c_t: {cells} cells need that many rows per set; got fake={len(fake)}, "
                                    f"train={len(train)}, heldout={len(heldout)}")
    km = KMeans(n_clusters=cells, n_init=1, random_state=seed).fit(train)
    ct, cf, ch = km.predict(train), km.predict(fake), km.predict(heldout)  # [l], [m], [n] cell labels
    lf = _in_cell_distances(fake, cf, train, ct, cells, tiling)  # [m]
    lh = _in_cell_distances(heldout, ch, train, ct, cells, tiling)  # [n]
    z, w, empty = [], [], 0
    for cell in range(cells):
        f_in, h_in = lf[cf == cell], lh[ch == cell]
        if len(h_in) == 0 or not np.any(ct == cell):
            empty += 1
            continue
        if len(f_in) > tau:
            z.append(mann_whitney_z(f_in, h_in))
            w.append(len(h_in) / len(heldout))
    value = float(np.dot(w, z) / np.sum(w)) if w else float("nan")
    return {"c_t": value, "cells": cells, "cells_used": len(w), "tau": tau, "cells_without_heldout": empty}
