"""Convolutional VAE (Kingma & Welling 2014) with a KL weight beta (Higgins et al. 2017, beta-VAE).

Encoder: ResBlock/stride-2 conv stack -> (mu, log sigma^2) of a Gaussian z [N, z_dim]; reparameterisation
z = mu + sigma * e. Decoder: linear -> conv stack -> per-pixel Bernoulli logits; pixel intensities in [0, 1]
are the Bernoulli targets, and the decoder mean sigmoid(logits) is the image. Loss per image:
BCE summed over pixels + beta * KL(q(z|x) || N(0, I)). Samples decode z ~ N(0, I) drawn from the seed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.base import RefModel, adam, cpu_randn
from reference_models.configs import VAEConfig
from reference_models.data import DataInfo
from reference_models.layers import ConvDecoder, ConvEncoder
from reference_models.sampling import Chunk, SampleOptions


class VAE(RefModel):
    family = "vae"
    log_keys = ("loss", "recon", "kl")

    def __init__(self, cfg: VAEConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        chans = cfg.channels
        self.feat = cfg.image_size // 2 ** (len(chans) - 1)  # spatial size of the feature map
        flat = chans[-1] * self.feat ** 2
        self.encoder = ConvEncoder(info.channels, chans)
        self.to_stats = nn.Linear(flat, 2 * cfg.z_dim)
        self.from_z = nn.Linear(cfg.z_dim, flat)
        self.decoder = ConvDecoder(info.channels, chans)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.encoder(x).flatten(1)).chunk(2, dim=1)  # each [N, z_dim]
        return mu, logvar.clamp(-20, 10)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_z(z).view(len(z), self.cfg.channels[-1], self.feat, self.feat)
        return self.decoder(h)  # [N, C, S, S] Bernoulli logits

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z)) * 2 - 1  # [N, C, S, S] in [-1, 1]

    def loss(self, x: torch.Tensor, e: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + (0.5 * logvar).exp() * e  # reparameterisation trick
        target = (x + 1) / 2  # [N, C, S, S] in [0, 1]
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), target, reduction="sum") / len(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / len(x)
        return {"loss": recon + self.cfg.beta * kl, "recon": recon, "kl": kl}

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": adam(self.parameters(), self.cfg.lr)}

    def train_step(self, x, y, gen, step, opt):
        e = cpu_randn((len(x), self.cfg.z_dim), gen, x.device)
        losses = self.loss(x, e)
        opt["opt"].zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt["opt"].step()
        return {k: float(v.detach()) for k, v in losses.items()}

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        return self.decode(chunk.init.randn(self.cfg.z_dim))  # [M, C, S, S]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, S, S] in [-1, 1] -> decoder mean at the posterior mean, in [-1, 1]."""
        return self.decode(self.encode(x)[0])
