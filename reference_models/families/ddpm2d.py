"""DDPM with an MLP denoiser for 2-D mixtures (the diffusion row of the toy2d suite)."""
from reference_models.configs import DDPM2DConfig
from reference_models.ddpm import DDPM2D
from reference_models.family import FAMILIES, Family

FAMILIES.add("ddpm2d", Family(
    name="ddpm2d", model=DDPM2D, config=DDPM2DConfig, dataset="toy2d-ring8",
    description="MLP DDPM on 2-D points",
    presets={
        "tiny": DDPM2DConfig(hidden=(16, 16), timesteps=40, sample_steps=4, steps=6, batch_size=8,
                             checkpoint_every=3, log_every=2, micro_batch=4),
        "quick": DDPM2DConfig(steps=4000, checkpoint_every=2000, ema_decay=0.995),
        "full": DDPM2DConfig(hidden=(512, 512, 512, 512), steps=50_000, checkpoint_every=10_000),
    },
))
