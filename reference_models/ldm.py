"""Latent diffusion (Rombach et al. 2022): a KL-regularised autoencoder, then a DDPM on its latents.

Phase 1 (steps [0, ae_steps)): the autoencoder learns x -> z ~ N(mu, sigma^2) -> x_hat with an L1
reconstruction loss plus kl_weight * KL(q(z|x) || N(0, I)) (no perceptual or adversarial term at this
scale). At step ae_steps the latent scale 1/std(mu) is fitted on the training set, as LDM's scale_factor.
Phase 2: the autoencoder is frozen and a class-conditional U-Net learns eps on scaled latents, with
labels dropped to a null token with probability p_uncond, so that one network gives both eps(z, y) and
eps(z). Sampling uses classifier-free guidance (Ho & Salimans 2022): eps = eps_u + w (eps_c - eps_u).
"""
from __future__ import annotations

import torch
from torch import nn

from reference_models.base import adam, cpu_randn
from reference_models.configs import LDMConfig
from reference_models.data import DataInfo, TrainData
from reference_models.ddpm import DiffusionModel, UNet
from reference_models.layers import ConvDecoder, ConvEncoder
from reference_models.sampling import Chunk, SampleOptions

NAN = float("nan")


class KLAutoencoder(nn.Module):
    """x [N, C, S, S] -> Gaussian latent [N, L, S/f, S/f] -> x_hat [N, C, S, S], f = 2^(len(channels)-1)."""

    def __init__(self, cin: int, channels: tuple[int, ...], latent: int) -> None:
        super().__init__()
        self.encoder = ConvEncoder(cin, channels)
        self.to_stats = nn.Conv2d(channels[-1], 2 * latent, 1)
        self.from_latent = nn.Conv2d(latent, channels[-1], 1)
        self.decoder = ConvDecoder(cin, channels)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-30, 20)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.from_latent(z))


class LDM(DiffusionModel):
    family = "ldm"
    log_keys = ("loss_ae", "recon", "kl", "loss")
    clip_x0 = None

    def __init__(self, cfg: LDMConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        self.ae = KLAutoencoder(info.channels, cfg.ae_channels, cfg.latent_channels)
        self.latent_size = cfg.image_size // 2 ** (len(cfg.ae_channels) - 1)
        self.setup(cfg, UNet(cfg.latent_channels, cfg.base_channels, cfg.channel_mult, cfg.num_res_blocks,
                             self.label_classes))
        self.register_buffer("latent_scale", torch.ones(()))

    def make_optimizers(self):
        return {"ae": adam(self.ae.parameters(), self.cfg.ae_lr), "unet": adam(self.net.parameters(), self.cfg.lr)}

    def optimizer_phases(self) -> dict[str, tuple[int, int]]:
        return {"ae": (0, self.cfg.ae_steps), "unet": (self.cfg.ae_steps, self.cfg.steps)}

    # ---- training ------------------------------------------------------------------------------
    def before_step(self, step: int, data: TrainData) -> None:
        if step == self.cfg.ae_steps:
            self.latent_scale.fill_(self._fit_latent_scale(data))

    @torch.no_grad()
    def _fit_latent_scale(self, data: TrainData) -> float:
        device = self.latent_scale.device
        mus = [self.ae.encode(data.x[i:i + 256].to(device))[0].double() for i in range(0, len(data), 256)]
        return float(1.0 / torch.cat(mus).std())

    def train_step(self, x, y, gen, step, opt):
        if step < self.cfg.ae_steps:
            return self._ae_step(x, gen, opt["ae"])
        return {"loss_ae": NAN, "recon": NAN, "kl": NAN, "loss": self._latent_step(x, y, gen, opt["unet"])}

    def _ae_step(self, x: torch.Tensor, gen: torch.Generator, opt: torch.optim.Optimizer) -> dict[str, float]:
        mu, logvar = self.ae.encode(x)
        z = mu + (0.5 * logvar).exp() * cpu_randn(tuple(mu.shape), gen, x.device)
        recon = (self.ae.decode(z) - x).abs().sum() / len(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / len(x)
        loss = recon + self.cfg.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss_ae": float(loss.detach()), "recon": float(recon.detach()), "kl": float(kl.detach()), "loss": NAN}

    def _latent_step(self, x, y, gen, opt) -> float:
        with torch.no_grad():
            mu, logvar = self.ae.encode(x)
            z = (mu + (0.5 * logvar).exp() * cpu_randn(tuple(mu.shape), gen, x.device)) * self.latent_scale
        return self.diffusion_step(z, self.drop_labels(y, gen), gen, opt)

    # ---- sampling ------------------------------------------------------------------------------
    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        s = self.latent_size
        z = self.run_sampler(chunk, opts, self.chunk_eps(chunk, opts), (self.cfg.latent_channels, s, s))
        return self.ae.decode(z / self.latent_scale).clamp(-1, 1)  # [M, C, S, S]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.ae.decode(self.ae.encode(x)[0]).clamp(-1, 1)
