"""Fréchet distance on any extractor's features (`fd`), the same on Inception features only (`fid`), and FD∞.

Heusel et al. 2017 (FID); Chong & Forsyth 2020 (FD∞, "Effectively Unbiased FID and Inception Score and
where to find them"). Maths in genbench.metrics.functional.fd (parity with torch-fidelity and
pytorch-fid) and genbench.metrics.functional.fd_fast (FD from a reference's cached covariance root,
and the exact fast bootstrap). FD∞ with dgm-eval's `compute_FD_infinity` (15 sizes from N/10). `fid` is
skipped on any extractor other than Inception (genbench.metrics.inception_only): a digits-classifier
number is `fd`, never FID.

Each set comes as rows (<set>.embedding) or as statistics (<set>.mean, <set>.cov, <set>.n and, for a
reference-statistics file, <set>.cov_sqrt); statistics are used when present. The bootstrap resamples
the generated set only and holds the reference fixed (why: functional.fd_fast's docstring); a paired
comparison's replicates (`count_values`) resample the reference too, by the same engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping, Sequence

import numpy as np

from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue
from genbench.metrics.functional import counts
from genbench.metrics.functional.fd_fast import FixedReference, GeneratedResampler, frechet_distance_rooted
from genbench.metrics.inception_only import inception_only_reason


def _stats(inputs: MetricInputs, s: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(mean [D], cov [D, D], n) of set s: its statistics if given, else from its embedding rows."""
    if inputs.has(f"{s}.mean") and inputs.has(f"{s}.cov"):
        n = int(inputs.get(f"{s}.n")) if inputs.has(f"{s}.n") else None
        return np.asarray(inputs.get(f"{s}.mean"), np.float64), np.asarray(inputs.get(f"{s}.cov"), np.float64), n
    x = inputs.get(f"{s}.embedding")  # [N, D]
    mu, sigma = fn.feature_stats(x)
    return mu, sigma, len(x)


def _given(inputs: MetricInputs, s: str) -> bool:
    return inputs.has(f"{s}.embedding") or (inputs.has(f"{s}.mean") and inputs.has(f"{s}.cov"))


class FD(Metric):
    name = "fd"
    outputs: ClassVar[tuple[str, ...]] = ("fd",)
    higher_is_better = {"fd": False}
    needs = ("fake.embedding", "real.embedding")  # or <set>.mean + <set>.cov for either set
    definition = "‖μf−μr‖² + tr Σf + tr Σr − 2 tr((ΣfΣr)^½) on the protocol's features (float64, N−1 cov)"
    bootstrap_sets = ("fake",)  # the reference is held fixed: see functional.fd_fast
    count_replicates: ClassVar[tuple[str, ...]] = ("fd",)
    domains: ClassVar[Mapping[str, tuple[float, float]]] = {"fd": (0.0, float("inf"))}
    matches = ("pytorch-fid fid_score.calculate_frechet_distance, torch-fidelity metric_fid, clean-fid "
               "frechet_distance, ADM evaluations/evaluator.py (N−1 covariance), to 1e-6 relative")
    differences: ClassVar[tuple[str, ...]] = (
        "StyleGAN2-ADA (metrics/metric_utils.py FeatureStats.get_mean_cov) normalises the covariance by N, "
        "not N−1: a factor N/(N−1), 2e-5 relative at N = 50k",
        "tr((ΣfΣr)^½) from two symmetric eigendecompositions, not scipy.linalg.sqrtm",
    )
    min_samples = 2

    def available(self, inputs: MetricInputs) -> str | None:
        missing = [f"{s}.embedding (or {s}.mean and {s}.cov)" for s in ("fake", "real") if not _given(inputs, s)]
        return f"needs {', '.join(missing)}" if missing else None

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        (mf, sf, nf), (mr, sr, nr) = _stats(inputs, "fake"), _stats(inputs, "real")
        if inputs.has("real.cov_sqrt"):
            value = frechet_distance_rooted(mf, sf, mr, sr, inputs.get("real.cov_sqrt"))
        elif inputs.has("fake.cov_sqrt"):  # FD is symmetric in its two sets
            value = frechet_distance_rooted(mr, sr, mf, sf, inputs.get("fake.cov_sqrt"))
        else:
            value = fn.frechet_distance(mf, sf, mr, sr)
        return {self.outputs[0]: MetricValue(value, details={"n_fake": nf, "n_real": nr})}

    def replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                   config: MetricConfig) -> list[dict[str, float]]:
        """Fast exact path when only the generated rows are resampled (see functional.fd_fast)."""
        if not draws or set(draws[0]) != {"fake"} or not inputs.has("fake.embedding"):  # same sets in every draw
            return super().replicates(inputs, draws, config)
        mr, sr, _ = _stats(inputs, "real")
        root = inputs.get("real.cov_sqrt") if inputs.has("real.cov_sqrt") else None
        resampler = GeneratedResampler(inputs.get("fake.embedding"), FixedReference.of(mr, sr, root))
        return [{self.outputs[0]: v} for v in resampler.values(draws)]

    def count_values(self, outputs: Sequence[str], fake: counts.Resample, real: counts.Resample,
                     config: MetricConfig) -> dict[str, float]:
        """FD of one replicate of each set from row counts, the reference resampled too (functional.fd_fast)."""
        return {o: counts.fd(fake, real) for o in outputs}


class FID(FD):
    name = "fid"
    outputs: ClassVar[tuple[str, ...]] = ("fid",)
    higher_is_better = {"fid": False}
    domains: ClassVar[Mapping[str, tuple[float, float]]] = {"fid": (0.0, float("inf"))}
    count_replicates: ClassVar[tuple[str, ...]] = ()  # FID's paired replicates run `point` (as they always have)
    definition = "FD on Inception pool3 features (inception-v3-tf or inception-v3-clean only): " + FD.definition
    differences = ("only on Inception features (inception-v3-tf, inception-v3-clean); elsewhere: fd",
                   *FD.differences)

    def available(self, inputs: MetricInputs) -> str | None:
        return inception_only_reason(self.name, "fd", inputs) or super().available(inputs)


class FDInfinity(Metric):
    name = "fd_inf"
    outputs = ("fd_inf",)
    higher_is_better = {"fd_inf": False}
    needs = ("fake.embedding", "real.embedding")
    definition = ("FD∞: intercept of a least-squares line FD(fake subset of size N, full real) = a + b/N over "
                  "15 sizes evenly spaced from min(N/10, 5000) to N")
    matches = ("layer6ai-labs/dgm-eval dgm_eval/metrics/fd.py compute_FD_infinity (after mchong6/FID_IS_infinity "
               "score_infinity.py calculate_FID_infinity, which starts at 5,000 for N = 50k)")
    differences: ClassVar[tuple[str, ...]] = (
        "subsets drawn from a seeded generator (dgm-eval's is unseeded)",
        f"refuses N < {fn.FD_INF_MIN_SAMPLES} instead of fitting on sizes such as [2, 3, 4]",
    )
    bootstrap_sets = ()
    min_samples = fn.FD_INF_MIN_SAMPLES

    @dataclass(frozen=True)
    class Params:
        points: int = fn.FD_INF_POINTS  # subset sizes in the fit (the authors' and dgm-eval's 15)

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.embedding"), inputs.get("real.embedding")
        res = fn.fd_infinity(fake, real, self.params.points, config.seed)
        details = {k: res[k] for k in ("slope", "sizes", "fd")}
        return {"fd_inf": MetricValue(res["fd_inf"], details=dict(details, n_real=len(real)))}


METRICS.add("fd", FD)
METRICS.add("fid", FID)
METRICS.add("fd_inf", FDInfinity)
