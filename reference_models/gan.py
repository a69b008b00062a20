"""GANs: DCGAN for images (Radford et al. 2016) and an MLP GAN with PacGAN packing for 2-D mixtures.

Both use the non-saturating loss of Goodfellow et al. 2014 in its BCE form:
  D: BCE(D(x), 1) + BCE(D(G(z)), 0);   G: BCE(D(G(z)), 1).
PacGAN (Lin et al. 2018): the discriminator sees `pack` samples concatenated (all real or all fake);
pack = 1 is the plain GAN. The 2-D defaults follow PacGAN's setup: G 4 hidden layers of 400 ReLU units,
D 3 of 200 (maxout with 5 pieces in the authors' setup), 2-D z, batch 100, Adam, weights ~ N(0, 0.02^2).
Each step draws batch_size * pack points, so D sees batch_size packs.
The DCGAN generator may use BatchNorm in training; sampling runs it in eval mode (per-sample).
Class-conditional DCGAN (`conditional`): label embedding concatenated to z in G, projection discriminator
(Miyato & Koyama 2018); fakes in a step take the real batch's labels.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.base import RefModel, adam, cpu_randn
from reference_models.configs import GAN2DConfig, GANConfig
from reference_models.data import DataInfo
from reference_models.layers import group_norm, init_normal_, maxout_mlp, mlp
from reference_models.sampling import Chunk, SampleOptions


def _norm(kind: str, ch: int) -> nn.Module:
    return {"batch": lambda: nn.BatchNorm2d(ch), "group": lambda: group_norm(ch), "none": nn.Identity}[kind]()


class DCGenerator(nn.Module):
    """z [N, z_dim] (+ label y [N]) -> linear to [N, 4c, 4, 4] -> (norm, ReLU, 2x up-conv) ... -> tanh [N, C, S, S].

    Conditional (num_classes > 0): a learnt label embedding [N, z_dim] is concatenated to z (Mirza & Osindero 2014).
    """

    def __init__(self, cfg: GANConfig, cout: int, num_classes: int = 0) -> None:
        super().__init__()
        n_up = int(math.log2(cfg.image_size // 4))
        self.chs = [cfg.g_channels * 2 ** (n_up - i) for i in range(n_up + 1)]
        self.label = nn.Embedding(num_classes, cfg.z_dim) if num_classes else None
        self.fc = nn.Linear(cfg.z_dim * (2 if num_classes else 1), self.chs[0] * 16)
        layers: list[nn.Module] = []
        for a, b in zip(self.chs[:-1], self.chs[1:]):
            layers += [_norm(cfg.g_norm, a), nn.ReLU(), nn.ConvTranspose2d(a, b, 4, 2, 1)]
        layers += [_norm(cfg.g_norm, self.chs[-1]), nn.ReLU(),
                   nn.Conv2d(self.chs[-1], cout, 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.label is not None:
            z = torch.cat([z, self.label(y)], dim=1)  # [N, 2 z_dim]
        return self.net(self.fc(z).view(len(z), self.chs[0], 4, 4))


class DCDiscriminator(nn.Module):
    """x [N, C, S, S] -> stride-2 convs with LeakyReLU (BatchNorm after the first) down to 4x4 -> logit [N].

    Conditional (num_classes > 0): the projection discriminator of Miyato & Koyama 2018,
    logit = w^T h + <embed(y), h> on the flattened features h.
    """

    def __init__(self, cfg: GANConfig, cin: int, num_classes: int = 0) -> None:
        super().__init__()
        n_down = int(math.log2(cfg.image_size // 4))
        ch, layers = cfg.d_channels, [nn.Conv2d(cin, cfg.d_channels, 3, 1, 1), nn.LeakyReLU(0.2)]
        for i in range(n_down):
            layers += [nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.BatchNorm2d(2 * ch), nn.LeakyReLU(0.2)]
            ch *= 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * 16, 1))
        self.proj = nn.Embedding(num_classes, ch * 16) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.proj is None:
            return self.net(x).squeeze(1)
        h = self.net[:-1](x)  # [N, F] features before the linear head
        return self.net[-1](h).squeeze(1) + (self.proj(y) * h).sum(1)


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class _GANBase(RefModel):
    """Shared non-saturating GAN step; subclasses define G, D, sample_z and pack."""

    log_keys = ("loss_d", "loss_g", "d_real", "d_fake")
    pack = 1

    def make_optimizers(self):
        return {"g": adam(self.G.parameters(), self.cfg.lr, self.cfg.beta1),
                "d": adam(self.D.parameters(), self.cfg.lr, self.cfg.beta1)}

    def d_logits(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            return self.D(x, y)
        return self.D(x.reshape(len(x) // self.pack, -1) if self.pack > 1 else x)

    def train_step(self, x, y, gen, step, opt):
        y = y if self.conditional else None  # fakes are drawn for the real batch's labels
        z = cpu_randn((len(x), self.cfg.z_dim), gen, x.device)
        fake = self.G(z) if y is None else self.G(z, y)
        d_real, d_fake = self.d_logits(x, y), self.d_logits(fake.detach(), y)
        loss_d = _bce(d_real, 1.0) + _bce(d_fake, 0.0)
        opt["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        opt["d"].step()
        loss_g = _bce(self.d_logits(fake, y), 1.0)
        opt["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        opt["g"].step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item()}

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        z = chunk.init.randn(self.cfg.z_dim)  # [M, z_dim]
        return self.G(z, chunk.labels) if self.conditional else self.G(z)


class DCGAN(_GANBase):
    family = "gan"

    def __init__(self, cfg: GANConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        ncls = info.num_classes if self.conditional else 0
        self.G = DCGenerator(cfg, info.channels, ncls)
        self.D = DCDiscriminator(cfg, info.channels, ncls)

    @property
    def conditional(self) -> bool:
        return bool(self.cfg.conditional and self.info.num_classes > 0)


class GAN2D(_GANBase):
    family = "gan2d"
    kind = "points"

    def __init__(self, cfg: GAN2DConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        self.pack = cfg.pack
        self.G = mlp([cfg.z_dim, *cfg.g_hidden, 2])
        sizes = [2 * cfg.pack, *cfg.d_hidden, 1]
        d = maxout_mlp(sizes, cfg.d_maxout) if cfg.d_maxout > 1 else mlp(sizes)
        self.D = nn.Sequential(d, nn.Flatten(0))
        if cfg.init_std > 0:
            init_normal_(self, cfg.init_std)

    def items_per_step(self) -> int:
        return self.cfg.batch_size * self.pack
