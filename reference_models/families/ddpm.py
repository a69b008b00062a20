"""DDPM (Ho et al. 2020) with a U-Net and DDIM sampling (Song et al. 2021); classifier-free guidance when
conditional (Ho & Salimans 2022)."""
from reference_models.configs import DDPMConfig
from reference_models.ddpm import DDPM
from reference_models.family import FAMILIES, Family

FAMILIES.add("ddpm", Family(
    name="ddpm", model=DDPM, config=DDPMConfig, dataset="digits",
    description="U-Net DDPM (epsilon prediction, L_simple), DDPM or DDIM sampler",
    presets={
        "tiny": DDPMConfig(image_size=8, base_channels=8, timesteps=40, sample_steps=4, steps=6, batch_size=8,
                           checkpoint_every=3, log_every=2, micro_batch=4),
        # EMA 0.995: 0.999 keeps 0.999^3000 = 5% of the random initial weights in the average after 3000 steps
        "quick": DDPMConfig(image_size=8, base_channels=24, steps=3000, checkpoint_every=500, ema_decay=0.995,
                            lr_schedule="cosine", warmup_steps=100),
        "full": DDPMConfig(image_size=32, base_channels=64, channel_mult=(1, 2, 2), num_res_blocks=2,
                           steps=100_000, batch_size=128, lr=2e-4, ema_decay=0.9999, checkpoint_every=5000,
                           micro_batch=64, sample_steps=100, lr_schedule="cosine", warmup_steps=5000),
    },
))
