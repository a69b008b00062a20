"""Tiny random diffusers pipelines (DDPM, DDIM, LDM) saved with save_pretrained: no network, seconds on a CPU."""
from __future__ import annotations

from pathlib import Path

import torch


def tiny_unet(size: int, channels: int):
    from diffusers import UNet2DModel

    torch.manual_seed(0)
    return UNet2DModel(sample_size=size, in_channels=channels, out_channels=channels, layers_per_block=1,
                       block_out_channels=(8, 16), down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)


def save_pipeline(kind: str, where: Path, size: int = 8) -> Path:
    """kind: ddpm | ddim | ldm; returns the folder written by save_pretrained."""
    import diffusers as d

    if kind == "ldm":
        torch.manual_seed(1)
        vq = d.VQModel(in_channels=3, out_channels=3, latent_channels=3, block_out_channels=(8, 16),
                       down_block_types=("DownEncoderBlock2D",) * 2,
                       up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=4, num_vq_embeddings=16,
                       sample_size=size)
        pipe = d.LDMPipeline(vqvae=vq, unet=tiny_unet(size // 2, 3), scheduler=d.DDIMScheduler(num_train_timesteps=50))
    elif kind == "ddim":
        pipe = d.DDIMPipeline(unet=tiny_unet(size, 3), scheduler=d.DDIMScheduler(num_train_timesteps=50))
    else:
        pipe = d.DDPMPipeline(unet=tiny_unet(size, 3), scheduler=d.DDPMScheduler(num_train_timesteps=50))
    out = where / kind
    pipe.save_pretrained(out)
    return out
