"""Kernel distance (`kd`) and Kernel Inception Distance (`kid`) (Bińkowski et al. 2018, "Demystifying MMD
GANs").

Unbiased MMD² with the cubic polynomial kernel k(x,y) = (xᵀy/d + 1)³, averaged over seeded subsets;
torch-fidelity's estimator (`metric_kid.kid_features_to_metric`). Maths in functional.kernel.

Numerics (`Params.precision`): the field has two conventions. `kid`, whose numbers are published, defaults
to "float32", the numerics of the code behind them (torch-fidelity's `metric_kid`, clean-fid's
`kernel_distance`, Bińkowski et al.'s own code): each subset's rows, kernels and sums in float32, one
subset's MMD² equal to torch-fidelity's bit for bit on the same rows. The other convention, "float64"
(kernels and sums in float64), is `kd`'s default: kd is genbench's generalisation with no published numbers,
and its values stay what they always were. The two differ by float32 rounding of sums of m² kernel values
(relative 1e-7 of the kernel sums, more of their small difference). The value's details name the precision.

Names and units: `kid` exists only on Inception features and is reported ×10³ (1000 × MMD², the
"KID×10³" of StyleGAN2-ADA's and most papers' tables; torch-fidelity and clean-fid print raw MMD²). The
same maths on any other extractor is `kd`, in raw MMD² (its features are not on Inception's scale).

Uncertainty: the value's std and 95% CI come from the bootstrap over the images of both sets (the
sampling uncertainty of the whole estimate), computed from row counts with each subset's kernels
computed once (functional.kd_counts: a replicate keeps the subsets as pool rows, each row with its count
in the replicate), so B = 200 replicates cost about one more point value. The standard deviation over subsets (torch-fidelity's
`kid_std`) measures how much one subset's estimate varies, not the uncertainty of their mean, so it is
kept in details as `subset_std` and never reported as the value's std.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.functional import kd_counts
from genbench.metrics.functional.counts import Pool, Resample
from genbench.metrics.functional.kd_counts import PRECISIONS
from genbench.metrics.inception_only import inception_only_reason

KID_SCALE = 1000.0  # kid is reported ×10³
_SUBSET_DIFFERENCES = (
    "subsets drawn with numpy default_rng: one run differs from torch-fidelity's within subset_std",
    "± is the bootstrap over images; the per-subset spread (torch-fidelity's kid_std) is details.subset_std",
)


@METRICS.register("kd")
class KD(Metric):
    name = "kd"
    outputs: ClassVar[tuple[str, ...]] = ("kd",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"kd": False}
    needs = ("fake.embedding", "real.embedding")
    definition = ("mean over seeded subsets of unbiased MMD² with k(x,y)=(xᵀy/d+1)³ on the protocol's "
                  "features (raw MMD²), each subset's kernels and sums in float64 (precision float64); subset "
                  "spread in details.subset_std")
    matches = ("torch-fidelity metric_kid.kid_features_to_metric (unbiased MMD², cubic kernel, 100 subsets "
               "of 1,000); StyleGAN2-ADA kernel_inception_distance.py and clean-fid use the same estimator")
    differences: ClassVar[tuple[str, ...]] = (
        *_SUBSET_DIFFERENCES,
        "kernels and sums in float64 (precision float64, kd's default); torch-fidelity, clean-fid and Bińkowski "
        "et al. compute in float32 (precision float32, kid's default): values differ by float32 rounding",
    )
    scale: ClassVar[float] = 1.0
    unit: ClassVar[str | None] = None
    count_replicates: ClassVar[tuple[str, ...]] = ("kd",)
    count_pool_limit: ClassVar[int | None] = None  # subsets only: no [P, P] matrix

    @dataclass(frozen=True)
    class Params:
        subsets: int = 100
        subset_size: int = 1000  # capped at the smaller set's size
        precision: str = "float64"  # kernels' and sums' dtype per subset (module docstring); kid: float32

        def __post_init__(self) -> None:
            if self.subsets < 1 or self.subset_size < 2:
                raise ConfigError(f"kid: need subsets >= 1 and subset_size >= 2, got {self}")
            if self.precision not in PRECISIONS:
                raise ConfigError(f"kd/kid Params.precision: unknown {self.precision!r}; choose one of "
                                  f"{', '.join(PRECISIONS)}")

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")
        p = self.params
        mean, std, m = fn.kernel_inception_distance(fake, real, p.subsets, p.subset_size, config.seed, p.precision)
        details = {"subsets": p.subsets, "subset_size": m, "subset_std": self.scale * std, "precision": p.precision}
        if self.unit:
            details["unit"] = self.unit
        return {self.outputs[0]: MetricValue(self.scale * mean, details=details)}

    def _rows(self, fake: Pool, real: Pool, seed: int) -> list[tuple]:
        """The point's subsets (pool rows) for this pool pair."""
        m = kd_counts.subset_size(len(fake), len(real), self.params.subset_size)
        return kd_counts.subset_rows(len(fake), len(real), self.params.subsets, m, seed)

    def count_batch(self, outputs: Sequence[str], tasks: Sequence[tuple[Resample, Resample]],
                    config: MetricConfig) -> list[dict[str, float]]:
        """All replicates of each pool pair at once from their counts (functional.kd_counts)."""
        out: list[dict[str, float]] = [{} for _ in tasks]
        groups: dict[tuple[int, int], list[int]] = {}
        for t, (f, r) in enumerate(tasks):
            groups.setdefault((id(f.pool), id(r.pool)), []).append(t)
        for idx in groups.values():
            fake, real = tasks[idx[0]][0].pool, tasks[idx[0]][1].pool
            c = np.stack([tasks[t][0].counts for t in idx])  # [B, P_fake]
            r = np.stack([tasks[t][1].counts for t in idx])  # [B, P_real]
            rows = self._rows(fake, real, config.seed)
            vals = self.scale * kd_counts.kd_of_counts(fake.raw, real.raw, rows, c, r, self.params.precision)  # [B]
            for t, v in zip(idx, vals):
                out[t] = {o: float(v) for o in outputs}
        return out

    def count_values(self, outputs: Sequence[str], fake: Resample, real: Resample,
                     config: MetricConfig) -> dict[str, float]:
        return self.count_batch(outputs, [(fake, real)], config)[0]

    def materialised_values(self, outputs: Sequence[str], fake: Resample, real: Resample,
                            config: MetricConfig) -> dict[str, float]:
        """The replicate's definition computed directly: each subset's rows repeated by their counts."""
        rows = self._rows(fake.pool, real.pool, config.seed)
        v = self.scale * kd_counts.kd_materialised(fake.pool.raw, real.pool.raw, rows, fake.counts, real.counts,
                                                   self.params.precision)
        return {o: v for o in outputs}


@METRICS.register("kid")
class KID(KD):
    name = "kid"
    outputs: ClassVar[tuple[str, ...]] = ("kid",)
    higher_is_better: ClassVar[Mapping[str, bool | None]] = {"kid": False}
    definition = ("kd on Inception pool3 features, reported ×10³ (1000 × unbiased MMD²), each subset's kernels "
                  "and sums in float32 (precision float32)")
    matches = ("torch-fidelity metric_kid.kid_features_to_metric with its float32 numerics (one subset's MMD² "
               "bit for bit on the same rows; unbiased, cubic kernel, 100 subsets of 1,000); clean-fid "
               "kernel_distance and StyleGAN2-ADA kernel_inception_distance.py use the same estimator")
    differences = ("reported ×10³ (1000 × MMD²); torch-fidelity, clean-fid and StyleGAN2-ADA print raw MMD²",
                   "only on Inception features (inception-v3-tf, inception-v3-clean); elsewhere: kd",
                   *_SUBSET_DIFFERENCES,
                   "precision float64 (kd's default: kernels and sums in float64) is the other convention, "
                   "within float32 rounding of this one")
    units: ClassVar[Mapping[str, str]] = {"kid": "×10³"}
    count_replicates: ClassVar[tuple[str, ...]] = ("kid",)
    scale = KID_SCALE
    unit = "×10³"

    @dataclass(frozen=True)
    class Params(KD.Params):
        precision: str = "float32"  # torch-fidelity's, clean-fid's and Bińkowski et al.'s numerics

    def available(self, inputs: MetricInputs) -> str | None:
        return inception_only_reason(self.name, "kd", inputs) or super().available(inputs)
