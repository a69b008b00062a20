"""Typed, frozen configurations for the reference models, with named presets (after nanoGPT's GPTConfig).

Every hyperparameter of a run lives in one frozen dataclass per family. A run is `preset + overrides`;
`config_to_dict` / `config_of_class` (family.config_from_dict) round-trip through config.json and validate every field, so a
hand-edited or foreign config.json is refused with a ConfigError that names the field.

The named presets of each family live in its file under `reference_models/families/`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from genbench.errors import ConfigError

IMAGE_SIZES = (8, 16, 32)
SAMPLERS = ("ddpm", "ddim")
LR_SCHEDULES = ("constant", "cosine")
NOISE_SCHEDULES = ("linear", "cosine")
VAE_PRIORS = ("standard", "fitted")


def _check_choice(cfg: "BaseConfig", name: str, choices: tuple[str, ...]) -> None:
    if getattr(cfg, name) not in choices:
        raise ConfigError(f"config field {name!r} must be one of {', '.join(choices)}, got {getattr(cfg, name)!r}")


def check_sampler(sampler: str, steps: int, eta: float, timesteps: int) -> None:
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler: unknown sampler {sampler!r} (use ddpm or ddim)")
    if not 1 <= steps <= timesteps:
        raise ConfigError(f"--steps: must be in [1, {timesteps}] (the model's T), got {steps}")
    if not 0 <= eta <= 1:
        raise ConfigError(f"--eta: must be in [0, 1], got {eta}")


# ---- validation helpers -----------------------------------------------------------------------
def check_field_names(cls: type, d: dict, where: str) -> None:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _check_field(cfg: BaseConfig, f: dataclasses.Field) -> None:
    v, want = getattr(cfg, f.name), f.type
    ok = {"int": lambda: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
          "str": lambda: isinstance(v, str),
          "bool": lambda: isinstance(v, bool),
          "tuple[int, ...]": lambda: isinstance(v, tuple) and len(v) > 0
          and all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in v)}[want]
    if not ok():
        raise ConfigError(f"config field {f.name!r} must be {want}{' (finite, >= 0)' * (want == 'float')}, got {v!r}")


def _check_depth(cfg: "ImageConfig", levels: tuple[int, ...]) -> None:
    """Each extra level halves the resolution; the smallest feature map must stay at least 2x2."""
    if cfg.image_size >> (len(levels) - 1) < 2:
        raise ConfigError(f"config: {len(levels)} resolution levels are too many for image_size {cfg.image_size}")


def _positive(cfg: BaseConfig, *names: str) -> None:
    for n in names:
        if getattr(cfg, n) < 1:
            raise ConfigError(f"config field {n!r} must be >= 1, got {getattr(cfg, n)}")



@dataclass(frozen=True)
class BaseConfig:
    """Fields shared by every family: optimisation, checkpointing and sampling micro-batch."""

    steps: int = 2000            # optimisation steps (LDM: autoencoder + diffusion steps)
    batch_size: int = 64
    lr: float = 2e-4
    checkpoint_every: int = 500  # K: a resumable checkpoint every K steps (and at the end)
    log_every: int = 25
    micro_batch: int = 16        # sampling runs the network on fixed padded micro-batches of this size
    lr_schedule: str = "constant"  # or "cosine": half-cosine decay to 0 over each optimiser's phase
    warmup_steps: int = 0        # linear learning-rate warm-up at the start of each optimiser's phase

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_field(self, f)
        self.validate()

    def validate(self) -> None:
        _positive(self, "steps", "batch_size", "checkpoint_every", "log_every", "micro_batch")
        if not self.lr > 0:
            raise ConfigError(f"config field 'lr' must be > 0, got {self.lr}")
        _check_choice(self, "lr_schedule", LR_SCHEDULES)
        if self.warmup_steps < 0:
            raise ConfigError(f"config field 'warmup_steps' must be >= 0, got {self.warmup_steps}")


@dataclass(frozen=True)
class ImageConfig(BaseConfig):
    image_size: int = 16  # digits are 8x8; upsampled (bilinear) to 16 or 32 for training

    def validate(self) -> None:
        super().validate()
        if self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"config field 'image_size' must be one of {IMAGE_SIZES}, got {self.image_size}")


@dataclass(frozen=True)
class VAEConfig(ImageConfig):
    """Kingma & Welling 2014 / beta-VAE (Higgins et al. 2017): conv encoder/decoder, Bernoulli decoder.

    conditional: a CVAE (Sohn et al. 2015), q(z|x,y) and p(x|z,y). prior 'fitted': after training, sample
    z from a full-covariance Gaussian fitted to the posterior means (ex-post density estimation, Ghosh
    et al. 2020) instead of N(0, I), which closes the gap between the prior and the aggregate posterior.
    """

    channels: tuple[int, ...] = (32, 64)
    z_dim: int = 16
    beta: float = 1.0
    lr: float = 1e-3
    prior: str = "standard"
    conditional: bool = False

    def validate(self) -> None:
        super().validate()
        _positive(self, "z_dim")
        _check_depth(self, self.channels)
        _check_choice(self, "prior", VAE_PRIORS)


@dataclass(frozen=True)
class GANConfig(ImageConfig):
    """DCGAN (Radford et al. 2016) with the non-saturating BCE loss (Goodfellow et al. 2014)."""

    z_dim: int = 64
    g_channels: int = 64
    d_channels: int = 32
    g_norm: str = "batch"  # DCGAN uses BatchNorm; sampling runs the generator in eval mode
    lr: float = 2e-4
    beta1: float = 0.5
    conditional: bool = False  # cGAN: label embedding into G, projection discriminator (Miyato & Koyama 2018)

    def validate(self) -> None:
        super().validate()
        _positive(self, "z_dim", "g_channels", "d_channels")
        if self.g_norm not in ("batch", "group", "none"):
            raise ConfigError(f"config field 'g_norm' must be batch, group or none, got {self.g_norm!r}")


@dataclass(frozen=True)
class GAN2DConfig(BaseConfig):
    """MLP GAN for 2-D mixtures with PacGAN packing (Lin et al. 2018); pack = 1 is the plain GAN."""

    z_dim: int = 2
    g_hidden: tuple[int, ...] = (400, 400, 400, 400)
    d_hidden: tuple[int, ...] = (200, 200, 200)
    pack: int = 1
    d_maxout: int = 5        # maxout pieces per discriminator unit; 1 = ReLU
    init_std: float = 0.02   # N(0, init_std^2) weights, zero biases; 0 = PyTorch's default init
    batch_size: int = 100
    lr: float = 1e-4
    beta1: float = 0.8
    micro_batch: int = 100

    def validate(self) -> None:
        super().validate()
        _positive(self, "z_dim", "pack", "d_maxout")


@dataclass(frozen=True)
class DiffusionFields(BaseConfig):
    """Ho et al. 2020 (DDPM) schedule and Song et al. 2021 (DDIM) sampler defaults."""

    timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    ema_decay: float = 0.999
    sampler: str = "ddim"
    sample_steps: int = 50
    eta: float = 0.0
    schedule: str = "linear"           # noise schedule: linear (DDPM) or cosine (Nichol & Dhariwal 2021)
    conditional: bool = False          # class-conditional with classifier-free guidance (Ho & Salimans 2022)
    p_uncond: float = 0.1              # label dropout for classifier-free guidance
    guidance: float = 1.0              # default guidance scale w (eps = eps_u + w (eps_c - eps_u))

    def validate(self) -> None:
        super().validate()
        _positive(self, "timesteps", "sample_steps")
        _check_choice(self, "schedule", NOISE_SCHEDULES)
        if not 0 <= self.p_uncond < 1:
            raise ConfigError(f"config field 'p_uncond' must be in [0, 1), got {self.p_uncond}")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ConfigError("config fields 'beta_start' < 'beta_end' must lie in (0, 1)")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"config field 'ema_decay' must be in [0, 1), got {self.ema_decay}")
        check_sampler(self.sampler, self.sample_steps, self.eta, self.timesteps)


@dataclass(frozen=True)
class DDPMConfig(DiffusionFields, ImageConfig):
    """Pixel-space DDPM: a small U-Net, eps-prediction, linear beta schedule."""

    base_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    lr: float = 5e-4
    batch_size: int = 64

    def validate(self) -> None:
        super().validate()
        _positive(self, "base_channels", "num_res_blocks")
        _check_depth(self, self.channel_mult)


@dataclass(frozen=True)
class DDPM2DConfig(DiffusionFields):
    """DDPM with an MLP denoiser for 2-D mixtures."""

    hidden: tuple[int, ...] = (256, 256, 256)
    lr: float = 1e-3
    batch_size: int = 256
    micro_batch: int = 100

    def validate(self) -> None:
        super().validate()
        if self.conditional:
            raise ConfigError("config field 'conditional': the 2-D MLP denoiser is unconditional")


@dataclass(frozen=True)
class LDMConfig(DiffusionFields, ImageConfig):
    """Rombach et al. 2022: KL autoencoder first stage, then a class-conditional DDPM on its latents."""

    ae_steps: int = 1000               # the first ae_steps of `steps` train the autoencoder
    ae_channels: tuple[int, ...] = (32, 64)  # one 2x downsampling per entry after the first
    latent_channels: int = 4
    kl_weight: float = 1e-4
    ae_lr: float = 1e-3
    base_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    guidance: float = 2.0
    conditional: bool = True
    lr: float = 5e-4

    def validate(self) -> None:
        super().validate()
        _positive(self, "latent_channels", "base_channels", "num_res_blocks")
        _check_depth(self, self.ae_channels)
        if (self.image_size >> (len(self.ae_channels) - 1)) >> (len(self.channel_mult) - 1) < 1:
            raise ConfigError("config: the U-Net has more levels (channel_mult) than the latent resolution allows")
        if not 0 < self.ae_steps < self.steps:
            raise ConfigError(f"config field 'ae_steps' ({self.ae_steps}) must be in (0, steps={self.steps})")


def config_to_dict(cfg: BaseConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}


def config_of_class(cls: type[BaseConfig], d: Any, where: str = "config.json") -> BaseConfig:
    """Rebuild and validate a `cls` config read from JSON; every field must be present and well typed."""
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: 'config' must be an object, got {type(d).__name__}")
    check_field_names(cls, d, where)
    missing = sorted({f.name for f in fields(cls)} - set(d))
    if missing:
        raise ConfigError(f"{where}: config is missing field(s) {', '.join(missing)}")
    vals = {f.name: tuple(d[f.name]) if isinstance(d[f.name], list) else d[f.name] for f in fields(cls)}
    try:
        return cls(**vals)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


__all__ = ["BaseConfig", "ImageConfig", "VAEConfig", "GANConfig", "GAN2DConfig", "DDPMConfig", "DDPM2DConfig",
           "LDMConfig", "check_field_names", "config_to_dict", "config_of_class",
           "check_sampler"]
