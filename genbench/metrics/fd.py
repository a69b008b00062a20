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

    def available(self, inputs: MetricInputs) -> str | None:
        missing = [f"{s}.embedding" for s in ("fake", "real") if not _has_stats(inputs, s)]
        return f"needs {', '.join(missing)} (or {', '.join(m[:-10] + '.mean/.cov' for m in missing)})" if missing else None

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        (mf, cf, nf), (mr, cr, nr) = _stats(inputs, "fake"), _stats(inputs, "real")
        value = fn.frechet_distance(mf, cf, mr, cr)
        return {self.outputs[0]: MetricValue(value, details={"n_fake": nf, "n_real": nr})}


def _has_stats(inputs: MetricInputs, s: str) -> bool:
    return inputs.has(f"{s}.embedding") or (inputs.has(f"{s}.mean") and inputs.has(f"{s}.cov"))


def _stats(inputs: MetricInputs, s: str) -> tuple:
    """(mean [D], cov [D, D], n) from the features when present, else from a statistics file's mean/cov."""
    if inputs.has(f"{s}.embedding"):
        x = inputs.get(f"{s}.embedding")  # [N, D]
        return (*fn.feature_stats(x), len(x))
    n = inputs.get(f"{s}.n") if inputs.has(f"{s}.n") else None
    return inputs.get(f"{s}.mean"), inputs.get(f"{s}.cov"), n


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
