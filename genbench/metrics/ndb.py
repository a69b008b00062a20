"""NDB and JS (Richardson & Weiss 2018, "On GANs and GMMs"; reference code eitanrich/gans-n-gmms ndb.py).

K = Params.bins seeded k-means bins on real features; two-proportion z-test per bin at p < 0.05.
No bootstrap: each replicate would refit k-means.
"""
from __future__ import annotations

from dataclasses import dataclass

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("ndb")
class NDB(Metric):
    name = "ndb"
    outputs = ("ndb", "ndb_js")
    higher_is_better = {"ndb": False, "ndb_js": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "number of k-means bins (fit on real) whose fake proportion differs (z-test p<0.05); JS of bins"
    bootstrap_sets = ()

    @dataclass(frozen=True)
    class Params:
        bins: int = 100

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        res = fn.ndb_js(inputs.get("fake.embedding"), inputs.get("real.embedding"), self.params.bins,
                       config.seed)
        info = {"bins": res["bins"], "alpha": 0.05}
        return {"ndb": MetricValue(res["ndb"], details=dict(info, fraction=res["ndb_fraction"])),
                "ndb_js": MetricValue(res["js"], details=info)}
