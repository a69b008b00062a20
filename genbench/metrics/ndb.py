"""NDB and JS (Richardson & Weiss 2018, "On GANs and GMMs"; reference code eitanrich/gans-n-gmms ndb.py).

K = Params.bins seeded k-means bins on real features; two-proportion z-test per bin at p < 0.05. As in
the reference (`NDB.construct_bins`), features with d > 1000 dimensions are binned on a seeded random
subset of d // 6 of them (Params.max_dims overrides; functional.ndb.ndb_dimensions).
No bootstrap: each replicate would refit k-means.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from genbench.errors import ConfigError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("ndb")
class NDB(Metric):
    name = "ndb"
    outputs = ("ndb", "ndb_js")
    higher_is_better = {"ndb": False, "ndb_js": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "number of k-means bins (fit on real) whose fake proportion differs (z-test p<0.05); JS of bins"
    matches = ("eitanrich/gans-n-gmms utils/ndb.py (k-means bins on real, pooled two-proportion z-test, "
               "JS; d > 1000: bins on d // 6 random dimensions)")
    differences: ClassVar[tuple[str, ...]] = (
        "k-means seeded with n_init=1 and the dimension subset drawn from RandomState(seed); the reference "
        "uses sklearn's unseeded defaults and the global numpy RNG",
    )
    bootstrap_sets = ()

    @dataclass(frozen=True)
    class Params:
        bins: int = 100
        max_dims: int | None = None  # None: the reference's rule (all dims up to 1000, else d // 6)

        def __post_init__(self) -> None:
            if self.bins < 2 or (self.max_dims is not None and self.max_dims < 1):
                raise ConfigError(f"ndb: need bins >= 2 and max_dims >= 1 (or None), got {self}")

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = np.asarray(inputs.get("fake.embedding")), np.asarray(inputs.get("real.embedding"))
        if fake.ndim != 2 or real.ndim != 2 or fake.shape[1] != real.shape[1]:
            raise ConfigError(f"ndb: expected [N, D] features of equal D; got fake {fake.shape}, real {real.shape}")
        dims = fn.ndb_dimensions(real.shape[1], config.seed, self.params.max_dims)  # [d_used]
        res = fn.ndb_js(fake[:, dims], real[:, dims], self.params.bins, config.seed)
        info = {"bins": res["bins"], "alpha": 0.05, "dims_used": len(dims)}
        return {"ndb": MetricValue(res["ndb"], details=dict(info, fraction=res["ndb_fraction"])),
                "ndb_js": MetricValue(res["js"], details=info)}
