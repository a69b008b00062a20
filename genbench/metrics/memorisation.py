"""Memorisation diagnostics: duplicates / birthday paradox (Arora & Zhang 2017), copying, and C_T
(Meehan, Chaudhuri & Dasgupta 2020, "A Non-Parametric Test to Detect Data-Copying in Generative Models").

Definitions in genbench.metrics.functional_knn; every distance is tiled (genbench.metrics.knn).
"""
from __future__ import annotations

from dataclasses import dataclass

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
    bootstrap_sets = ("fake",)  # resampling train would make zero-distance train pairs

    @dataclass(frozen=True)
    class Params:
        ct_max_cells: int = 50  # Meehan et al. use tens of k-means cells
        ct_min_fake_per_cell: int = 20  # cells with fewer generated samples are left out (the paper's τ)

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, train = inputs.get("fake.embedding"), inputs.get("train.embedding")
        tiling = Tiling.from_config(config)
        rate, t = fn.copy_rate(fake, train, tiling)
        out: dict[str, float | MetricValue] = {"copy_rate": MetricValue(rate, details={"threshold": t})}
        if inputs.has("heldout.embedding"):
            held = inputs.get("heldout.embedding")
            p = self.params
            cells = max(1, min(p.ct_max_cells, min(len(fake), len(held)) // (2 * p.ct_min_fake_per_cell)))
            res = fn.c_t(fake, train, held, cells, config.seed, p.ct_min_fake_per_cell, tiling)
            out["c_t"] = MetricValue(res["c_t"], details={k: v for k, v in res.items() if k != "c_t"})
        return out
