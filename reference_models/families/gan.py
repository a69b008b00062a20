"""DCGAN (Radford et al. 2016) on digits; projection discriminator (Miyato & Koyama 2018) when conditional."""
from reference_models.configs import GANConfig
from reference_models.family import FAMILIES, Family
from reference_models.gan import DCGAN

FAMILIES.add("gan", Family(
    name="gan", model=DCGAN, config=GANConfig, dataset="digits",
    description="DCGAN with a non-saturating loss",
    presets={
        "tiny": GANConfig(image_size=8, z_dim=8, g_channels=8, d_channels=8, steps=6, batch_size=8,
                          checkpoint_every=3, log_every=2, micro_batch=4),
        "quick": GANConfig(image_size=8, g_channels=32, d_channels=32, steps=2000, checkpoint_every=500),
        "full": GANConfig(image_size=32, z_dim=100, g_channels=128, d_channels=64, steps=50_000,
                          batch_size=128, checkpoint_every=5000, micro_batch=64),
    },
))
