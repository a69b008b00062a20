"""The registry of reference-model families (genbench.registry.Registry): name -> RefModel class."""
from __future__ import annotations

from genbench.registry import Registry
from reference_models.base import RefModel
from reference_models.ddpm import DDPM, DDPM2D
from reference_models.gan import DCGAN, GAN2D
from reference_models.ldm import LDM
from reference_models.vae import VAE

FAMILIES: Registry[type[RefModel]] = Registry("model family")
for _cls in (VAE, DCGAN, GAN2D, DDPM, DDPM2D, LDM):
    FAMILIES.add(_cls.family, _cls)
