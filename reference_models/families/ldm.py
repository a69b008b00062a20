"""Latent diffusion (Rombach et al. 2022): an autoencoder, then a U-Net DDPM in its latent space;
class-conditional with classifier-free guidance."""
from reference_models.configs import LDMConfig
from reference_models.family import FAMILIES, Family
from reference_models.ldm import LDM

FAMILIES.add("ldm", Family(
    name="ldm", model=LDM, config=LDMConfig, dataset="digits",
    description="autoencoder + latent U-Net DDPM (ae_steps of autoencoder training first)",
    presets={
        "tiny": LDMConfig(image_size=8, ae_channels=(8, 16), latent_channels=2, base_channels=8, ae_steps=3,
                          timesteps=40, sample_steps=4, steps=6, batch_size=8, checkpoint_every=3, log_every=2,
                          micro_batch=4),
        "quick": LDMConfig(image_size=8, ae_channels=(24, 48), latent_channels=3, base_channels=32, steps=2000,
                           ae_steps=500, checkpoint_every=500, ema_decay=0.995),
        "full": LDMConfig(image_size=32, ae_channels=(64, 128, 128), latent_channels=4, base_channels=128,
                          channel_mult=(1, 2), num_res_blocks=2, steps=120_000, ae_steps=20_000,
                          batch_size=128, lr=2e-4, ema_decay=0.9999, checkpoint_every=5000, micro_batch=64),
    },
))
