"""SSIM metrics (Wang et al. 2004): reconstruction SSIM (paired) and diversity SSIM (random pairs).

Maths in genbench.metrics.functional.ssim (equal to scikit-image's structural_similarity with
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255). The window actually
used (11, or smaller for tiny images) is recorded in each value's details.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.errors import ConfigError
from genbench.metrics import functional as fn
from genbench.metrics.base import METRICS, Metric, MetricConfig, MetricInputs, MetricValue


@METRICS.register("ssim_recon")
class SSIMReconstruction(Metric):
    name = "ssim_recon"
    outputs = ("ssim_recon",)
    domains = {"ssim_recon": (-1.0, 1.0)}
    higher_is_better = {"ssim_recon": True}
    needs = ("fake.images", "real.images")
    definition = "mean over i of SSIM(fake[i], real[i]) (reconstruction vs input), Gaussian 11x11, σ=1.5"
    matches = ("scikit-image structural_similarity (gaussian_weights, σ = 1.5, use_sample_covariance=False, "
               "data_range=255; the SSIM map cropped by 5 pixels before averaging)")
    differences = ("torchmetrics averages the SSIM map over every pixel (borders from reflection padding) and "
                   "infers data_range from the data",)
    bootstrap_sets = ("fake", "real")
    paired = True
    min_samples = 1

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        fake, real = inputs.get("fake.images"), inputs.get("real.images")  # [N, C, H, W] uint8 each
        if len(fake) != len(real):
            raise ConfigError(f"ssim_recon pairs fake[i] with real[i]: got fake.images={len(fake)}, "
                              f"real.images={len(real)}")
        values, win = fn.ssim_pairs(fake, real, 255.0, config.device)
        return {"ssim_recon": MetricValue(float(values.mean()), details={"window": win, "pairs": len(values)})}


@METRICS.register("ssim_diversity")
class SSIMDiversity(Metric):
    name = "ssim_diversity"
    outputs = ("ssim_diversity", "ssim_diversity_ref")
    higher_is_better = {"ssim_diversity": False, "ssim_diversity_ref": None}
    needs = ("fake.images", "real.images")
    definition = ("mean SSIM over seeded random pairs within the fake set (higher = less diverse), and the "
                  "same within the real set; std = standard error over pairs")
    matches = SSIMReconstruction.matches + " per pair; the pairing is genbench's own (seeded, no reference code)"
    differences = SSIMReconstruction.differences
    bootstrap_sets = ()  # resampled duplicates would pair an image with itself; std/CI come from the pairs

    @dataclass(frozen=True)
    class Params:
        pairs: int = 1000

    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        return {"ssim_diversity": self._within(inputs.get("fake.images"), config),
                "ssim_diversity_ref": self._within(inputs.get("real.images"), config)}

    def _within(self, images: np.ndarray, config: MetricConfig) -> MetricValue:
        i, j = fn.random_pairs(len(images), self.params.pairs, config.seed)
        values, win = fn.ssim_pairs(images[i], images[j], 255.0, config.device)  # [pairs]
        mean, se = float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))
        return MetricValue(mean, se, (mean - 1.96 * se, mean + 1.96 * se),
                           {"window": win, "pairs": len(values)})
