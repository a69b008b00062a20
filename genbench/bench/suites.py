"""Built-in benchmark suites: dataset + reference split + protocol + reference models + baselines.

A suite run trains each reference model (or reuses a checkpoint whose config matches), generates its
fixed-seed sample set, evaluates it under the suite's protocol, adds the real-vs-real and noise
baselines, and writes the leaderboard. Every stage resumes: checkpoints, sample sets, cached features
and per-model results are reused when their inputs are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from genbench.errors import ConfigError
from genbench.registry import Registry

PRESETS = ("tiny", "quick", "full")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # row name on the leaderboard
    family: str  # reference_models family
    dataset: str  # training dataset
    overrides: tuple[tuple[str, object], ...] = ()  # config overrides, e.g. (("pack", 2),)
    sample_options: tuple[tuple[str, object], ...] = ()  # e.g. (("sampler", "ddim"), ("steps", 50))


@dataclass(frozen=True)
class Suite:
    name: str
    protocol: str
    reference: str  # reference dataset
    models: tuple[ModelSpec, ...]
    num_samples: dict[str, int]  # per preset
    real_baseline: str  # dataset whose items (disjoint from the reference) form the real-vs-real row
    train: str | None = None  # training split, for copy detection
    tiny_steps: int = 30  # training steps under the 'tiny' preset (tests)
    per_class: bool = False  # the report adds per-class metrics (genbench.eval.per_class, digits classifier)
    description: str = ""
    extra: dict = field(default_factory=dict)

    def n(self, preset: str) -> int:
        if preset not in PRESETS:
            raise ConfigError(f"--preset: unknown preset {preset!r} (use {', '.join(PRESETS)})")
        return self.num_samples[preset]


SUITES: Registry[Suite] = Registry("suite")

SUITES.add("digits", Suite(
    name="digits", protocol="digits-default", reference="digits-test", train="digits-train",
    real_baseline="digits-train",
    models=(ModelSpec("vae", "vae", "digits-train"),
            ModelSpec("gan", "gan", "digits-train"),
            ModelSpec("ddpm", "ddpm", "digits-train", sample_options=(("sampler", "ddim"),)),
            ModelSpec("ldm", "ldm", "digits-train", sample_options=(("sampler", "ddim"),))),
    num_samples={"tiny": 200, "quick": 1000, "full": 1000}, per_class=True,
    description="scikit-learn digits: VAE, DCGAN, DDPM and LDM trained on digits-train, scored against "
                "digits-test with the digits classifier.",
))

SUITES.add("toy2d", Suite(
    name="toy2d", protocol="toy2d-default", reference="toy2d-ring8", real_baseline="toy2d-ring8",
    models=(ModelSpec("gan", "gan2d", "toy2d-ring8"),
            ModelSpec("pacgan2", "gan2d", "toy2d-ring8", overrides=(("pack", 2),)),
            ModelSpec("ddpm", "ddpm2d", "toy2d-ring8")),
    num_samples={"tiny": 2500, "quick": 2500, "full": 2500},
    description="Ring of 8 Gaussians (PacGAN setup): GAN, PacGAN2 and an MLP DDPM.",
))

SUITES.add("stacked-digits", Suite(
    name="stacked-digits", protocol="stacked-digits-default", reference="stacked-digits-test",
    real_baseline="stacked-digits",
    models=(ModelSpec("gan", "gan", "stacked-digits"),),
    num_samples={"tiny": 500, "quick": 10_000, "full": 10_000},
    description="Stacked digits (1,000 modes): DCGAN mode coverage.",
))
