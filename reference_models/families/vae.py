"""VAE (Kingma & Welling 2014) on digits: convolutional encoder/decoder, optional class conditioning."""
from reference_models.configs import VAEConfig
from reference_models.family import FAMILIES, Family
from reference_models.vae import VAE

FAMILIES.add("vae", Family(
    name="vae", model=VAE, config=VAEConfig, dataset="digits",
    description="convolutional VAE (beta-VAE loss, fitted-Gaussian prior option, CVAE when conditional)",
    presets={
        "tiny": VAEConfig(image_size=8, channels=(8, 16), z_dim=4, steps=6, batch_size=8, checkpoint_every=3,
                          log_every=2, micro_batch=4),
        # beta 0.1 keeps information in z (beta = 1 left ~4 nats: blurry class averages, recall 0.09); the fitted
        # prior then samples where the posteriors are rather than from N(0, I)
        "quick": VAEConfig(image_size=8, steps=2000, batch_size=64, checkpoint_every=500, beta=0.1, prior="fitted"),
        "full": VAEConfig(image_size=32, channels=(64, 128, 256), z_dim=32, steps=50_000, batch_size=128,
                          checkpoint_every=5000, micro_batch=64, prior="fitted", lr_schedule="cosine"),
    },
))
