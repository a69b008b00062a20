"""Reference generative models for genbench: VAE, GAN (DCGAN, 2-D MLP GAN with PacGAN packing), DDPM with
DDIM sampling (U-Net, and an MLP variant for 2-D mixtures) and a class-conditional latent diffusion model.
They depend on genbench's public interfaces only (datasets, seeding, errors, registry, atomic IO).

The two calls other code relies on (keep them stable):

    model = reference_models.train(family, dataset, preset="quick", *, out=DIR, seed=0, steps=None,
                                   device="auto", config=None, overrides=None, progress=False,
                                   **field_overrides)
        Trains into DIR (model.safetensors, config.json, train_log.csv, loss.png, ckpt/), resuming from
        DIR's last checkpoint, or reusing DIR when it already holds the finished run of the same config.
        Returns a ReferenceModel.

    images = reference_models.load(DIR, device="cpu").sample(seeds, batch_size=64, *, sampler=None,
                                   steps=None, eta=None, guidance=None, class_label=None, progress=False)
        uint8 [N, 3, H, W] (2-D families: float64 [N, 2]); sample k depends only on seeds[k].
        `sample_labelled(...)` also returns the class labels of conditional models.

Families: one file each in `reference_models/families/` (model, config class, presets), discovered into the
FAMILIES registry (`family_names()`, `get_family(name)`, `presets()`). Every family has the presets tiny
(tests), quick (CPU minutes) and full (GPU); gan2d also paper (PacGAN 2-D setup, pack 1) and pacgan2 (pack 2).
"""
from __future__ import annotations

from reference_models.api import ReferenceModel, load
from reference_models.family import FAMILIES, Family, family_names, get_family, get_preset, load_families, presets
from reference_models.train import train

load_families()

__all__ = ["FAMILIES", "Family", "ReferenceModel", "family_names", "get_family", "get_preset", "load", "presets",
           "train"]
