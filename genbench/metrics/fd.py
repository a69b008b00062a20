"""Fréchet distance on any extractor's features (`fd`), the same under its usual name (`fid`), and FD∞.

Heusel et al. 2017 (FID); Chong & Forsyth 2020 (FD∞, "Effectively Unbiased FID and Inception Score and
where to find them"). Maths in genbench.metrics.functional_fd; parity with torch-fidelity and pytorch-fid.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


class FD(Metric):
    name = "fd"
    outputs: ClassVar[tuple[str, ...]] = ("fd",)
    higher_is_better = {"fd": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "‖μf−μr‖² + tr Σf + tr Σr − 2 tr((ΣfΣr)^½) on the protocol's features (float64, N−1 cov)"
    min_samples = 2

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")  # [Nf, D], [Nr, D]
        value = fn.frechet_distance_features(fake, real)
        return {self.outputs[0]: MetricValue(value, details={"n_fake": len(fake), "n_real": len(real)})}


class FID(FD):
    name = "fid"
    outputs: ClassVar[tuple[str, ...]] = ("fid",)
    higher_is_better = {"fid": False}
    definition = "FD on Inception pool3 features (the extractor is the protocol's): " + FD.definition


class FDInfinity(Metric):
    name = "fd_inf"
    outputs = ("fd_inf",)
    higher_is_better = {"fd_inf": False}
    needs = ("fake.embedding", "real.embedding")
    definition = "FD∞: intercept of a linear fit of FD(fake subset of size N, full real) against 1/N"
    bootstrap_sets = ()
    min_samples = 10

    @dataclass(frozen=True)
    class Params:
        points: int = 5  # subset sizes in the fit

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")
        res = fn.fd_infinity(fake, real, self.params.points, config.seed)
        details = {k: res[k] for k in ("slope", "sizes", "fd")}
        return {"fd_inf": MetricValue(res["fd_inf"], details=dict(details, n_real=len(real)))}


METRICS.add("fd", FD)
METRICS.add("fid", FID)
METRICS.add("fd_inf", FDInfinity)
