"""The 2-D MLP GAN of the PacGAN experiments (Lin et al. 2018), with packing degree `pack`."""
from reference_models.configs import GAN2DConfig
from reference_models.family import FAMILIES, Family
from reference_models.gan import GAN2D

FAMILIES.add("gan2d", Family(
    name="gan2d", model=GAN2D, config=GAN2DConfig, dataset="toy2d-ring8",
    description="MLP GAN on 2-D mixtures; pack = 2 is PacGAN2",
    presets={
        "tiny": GAN2DConfig(g_hidden=(16, 16), d_hidden=(16,), pack=2, steps=6, batch_size=8, checkpoint_every=3,
                            log_every=2, micro_batch=4),
        # CPU-minutes variant: ReLU discriminator, PyTorch default init, Adam lr 5e-4 beta1 0.5, 6 epochs
        "quick": GAN2DConfig(steps=6000, checkpoint_every=2000, d_maxout=1, init_std=0.0, beta1=0.5, lr=5e-4),
        # the authors' setup (G 4x400 ReLU, D 3x200 maxout-5, z 2-D, batch 100, Adam lr 1e-4 beta1 0.8,
        # N(0, 0.02^2) init): 400 epochs of the 100,000 points at batch 100 (slow on a CPU: use --steps)
        "paper": GAN2DConfig(steps=400_000, checkpoint_every=20_000),
        "pacgan2": GAN2DConfig(steps=400_000, checkpoint_every=20_000, pack=2),
        "full": GAN2DConfig(steps=100_000, checkpoint_every=10_000),  # the paper setup, 100 epochs
    },
))
