"""The interface every reference-model family implements, and small shared training helpers.

A family is an nn.Module holding all of its networks (and EMA copies) so that one state_dict is its
checkpoint. The training loop (train.py) and the sampling wrapper (api.py) only use this interface.
"""
from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from genbench.errors import ConfigError
from reference_models.configs import BaseConfig
from reference_models.data import DataInfo, TrainData
from reference_models.sampling import Chunk, SampleOptions

Optimizers = dict[str, torch.optim.Optimizer]


class RefModel(nn.Module):
    family: ClassVar[str] = ""
    kind: ClassVar[str] = "images"        # what it generates: "images" or "points"
    log_keys: ClassVar[tuple[str, ...]] = ("loss",)

    def __init__(self, cfg: BaseConfig, info: DataInfo) -> None:
        super().__init__()
        self.cfg, self.info = cfg, info

    # ---- training ------------------------------------------------------------------------------
    def items_per_step(self) -> int:
        return self.cfg.batch_size

    def before_step(self, step: int, data: TrainData) -> None:
        """Hook run before each training step (e.g. to fit a data or latent scale at a phase start)."""

    def make_optimizers(self) -> Optimizers:
        raise NotImplementedError

    def optimizer_phases(self) -> dict[str, tuple[int, int]]:
        """Optimiser name -> the [start, end) steps it trains in; the LR schedule runs over that phase."""
        return {}  # default: every optimiser trains for all of [0, cfg.steps)

    def after_training(self, data: TrainData) -> None:
        """Hook run once after the last step, before the weights are saved (e.g. to fit a prior)."""

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None, gen: torch.Generator, step: int,
                   opt: Optimizers) -> dict[str, float]:
        """One optimisation step on batch x [B, ...]; all randomness from `gen` (CPU). Returns log values."""
        raise NotImplementedError

    # ---- sampling ------------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return False

    def resolve_options(self, sampler: str | None = None, steps: int | None = None, eta: float | None = None,
                        guidance: float | None = None, class_label: int | None = None) -> SampleOptions:
        """Validate sampler settings against the family and fill in the config's defaults."""
        bad = [n for n, v in (("--sampler", sampler), ("--steps", steps), ("--eta", eta)) if v is not None]
        if bad:
            raise ConfigError(f"{', '.join(bad)}: only diffusion models (ddpm, ddpm2d, ldm) take sampler settings; "
                              f"this is a {self.family} model")
        check_conditioning(self, guidance, class_label)
        if guidance is not None:
            raise ConfigError(f"--guidance: only diffusion models (ddpm, ldm) use classifier-free guidance; "
                              f"this is a {self.family} model")
        return SampleOptions(class_label=class_label)

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        """Samples for one padded micro-batch: [M, C, H, W] in [-1, 1] (images) or [M, 2] (points)."""
        raise NotImplementedError


def check_conditioning(model: RefModel, guidance: float | None, class_label: int | None) -> None:
    if not model.conditional and (guidance is not None or class_label is not None):
        raise ConfigError(f"--guidance/--class: this {model.family} model is not class-conditional")
    ncls = model.info.num_classes
    if class_label is not None and not 0 <= class_label < ncls:
        raise ConfigError(f"--class: must be in [0, {ncls - 1}] for dataset {model.info.dataset}, got {class_label}")
    if guidance is not None and guidance < 0:
        raise ConfigError(f"--guidance: must be >= 0, got {guidance}")


def lr_factor(cfg: BaseConfig, step: int, start: int, end: int) -> float:
    """Learning-rate multiplier at `step` of a phase [start, end): linear warm-up, then constant or half-cosine."""
    i, n = max(step - start, 0), max(end - start, 1)
    warm = min(1.0, (i + 1) / cfg.warmup_steps) if cfg.warmup_steps > 0 else 1.0
    if cfg.lr_schedule == "cosine":
        return warm * 0.5 * (1.0 + math.cos(math.pi * min(i, n) / n))
    return warm


def set_learning_rates(model: RefModel, opts: Optimizers, step: int) -> None:
    """Set each optimiser's LR for this step from its base LR (stored once as 'base_lr' in its groups)."""
    phases = model.optimizer_phases()
    for name, opt in opts.items():
        start, end = phases.get(name, (0, model.cfg.steps))
        f = lr_factor(model.cfg, step, start, end)
        for group in opt.param_groups:
            group["lr"] = group.setdefault("base_lr", group["lr"]) * f


def cpu_randn(shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=gen).to(device)


@torch.no_grad()
def ema_update(ema: nn.Module, net: nn.Module, decay: float) -> None:
    for pe, p in zip(ema.parameters(), net.parameters()):
        pe.mul_(decay).add_(p.detach(), alpha=1.0 - decay)


def frozen_copy(net: nn.Module) -> nn.Module:
    import copy

    ema = copy.deepcopy(net)
    ema.requires_grad_(False)
    return ema


def adam(params, lr: float, beta1: float = 0.9) -> torch.optim.Adam:
    # foreach=False: one fixed code path, identical on every run
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), foreach=False)
