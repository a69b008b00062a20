"""Memorisation diagnostics: duplicates / birthday paradox (Arora & Zhang 2017), copying, and C_T
(Meehan, Chaudhuri & Dasgupta 2020, "A Non-Parametric Test to Detect Data-Copying in Generative Models").

Definitions in genbench.metrics.functional.knn and functional.ct (C_T with the authors' conventions:
in-cell nearest training point, continuity-corrected U, cells with more than τ = 20 generated samples);
every distance is tiled (genbench.metrics.knn).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.knn import Tiling



@METRICS.register("duplicates")
class Duplicates(Metric):
    name = "duplicates"
    outputs = ("duplicate_rate", "duplicate_pair_rate")
    higher_is_better = {"duplicate_rate": False, "duplicate_pair_rate": False}
    needs = ("fake.embedding", "real.embedding")
    definition = ("fraction of fakes whose nearest other fake is closer than the 1st percentile of real-real "
                  "NN distances; fraction of fake pairs that close; P(dup in batch s) in details")
    matches = "the birthday-paradox test of Arora & Zhang 2017, made automatic (no reference code)"
    differences = ("duplicates are pairs closer than the 1st percentile of real-real NN distances, not pairs "
                   "judged by eye as in the paper",)
    bootstrap_sets = ()  # resampling with replacement manufactures duplicates

    @dataclass(frozen=True)
    class Params:
        birthday_sizes: tuple[int, ...] = (16, 32, 64, 128)  # batch sizes s for P(duplicate in s samples)

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        res = fn.duplicates(inputs.get("fake.embedding"), inputs.get("real.embedding"), self.params.birthday_sizes,
                            Tiling.from_config(config))
        info = {"threshold": res["threshold"], "birthday": res["birthday"]}
        return {"duplicate_rate": MetricValue(res["duplicate_rate"], details=info),
                "duplicate_pair_rate": MetricValue(res["pair_rate"], details=info)}


@METRICS.register("copying")
class Copying(Metric):
    name = "copying"
    outputs = ("copy_rate", "c_t")
    higher_is_better = {"copy_rate": False, "c_t": None}
    needs = ("fake.embedding", "train.embedding")  # heldout.embedding optional: adds c_t
    definition = ("fraction of fakes nearer a training sample than the 1st percentile of train-train NN "
                  "distances; C_T (Meehan et al. 2020) when a held-out split exists (≪0 = copying)")
    matches = ("c_t: casey-meehan/data-copying data_copying_tests.py C_T (copied by dgm-eval metrics/ct.py), "
               "up to 50 k-means cells like the authors' MNIST experiment; copy_rate: genbench's own")
    differences = ("a cell without held-out samples gets weight 0 instead of the reference's ValueError",
                   "dgm-eval first projects to 64 PCA components and uses 3 cells; genbench uses the features "
                   "as given",)
    domains = {"copy_rate": (0.0, 1.0)}
    bootstrap_sets = ("fake",)  # resampling train would make zero-distance train pairs

    @dataclass(frozen=True)
    class Params:
        ct_max_cells: int = 50  # Meehan et al. use tens of k-means cells
        ct_tau: int = 20  # a cell counts only with more than tau generated samples (reference: tau = 20/m)

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, train = inputs.get("fake.embedding"), inputs.get("train.embedding")
        tiling = Tiling.from_config(config)
        rate, t = fn.copy_rate(fake, train, tiling)
        out: dict[str, float | MetricValue] = {"copy_rate": MetricValue(rate, details={"threshold": t})}
        if inputs.has("heldout.embedding"):
            held = inputs.get("heldout.embedding")
            p = self.params
            cells = max(1, min(p.ct_max_cells, min(len(fake), len(held)) // (2 * p.ct_tau)))
            res = fn.c_t(fake, train, held, cells, config.seed, p.ct_tau, tiling)
            out["c_t"] = MetricValue(res["c_t"], details={k: v for k, v in res.items() if k != "c_t"})
        return out

    def replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                   config: MetricConfig) -> list[dict[str, float]]:
        """copy_rate of a resample of the fakes takes its rows of the per-fake flags (train is fixed), the
        same values as `point` on the materialised resample; c_t (k-means cells) recomputes per replicate."""
        if inputs.has("heldout.embedding"):
            return self.materialised_replicates(inputs, draws, config)
        flags, _ = fn.copy_flags(inputs.get("fake.embedding"), inputs.get("train.embedding"),
                                 Tiling.from_config(config))  # [N_fake] float64
        return [{"copy_rate": float(flags[torch.from_numpy(d["fake"])].mean())} for d in draws]
