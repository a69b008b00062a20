"""DDPM (Ho et al. 2020): eps-prediction with a linear beta schedule, a small U-Net, DDPM and DDIM samplers.

Options: the cosine noise schedule of Nichol & Dhariwal 2021, and class conditioning with classifier-free
guidance (Ho & Salimans 2022): labels are dropped to a null token with probability p_uncond in training,
and sampling uses eps = eps_u + w (eps_c - eps_u).

The U-Net follows the DDPM paper's design at small scale: sinusoidal time embedding through an MLP,
GroupNorm residual blocks at each resolution, self-attention at the lowest resolution and in the middle,
skip connections by concatenation. `ddpm2d` swaps the U-Net for an MLP denoiser on 2-D points (data
scaled to unit standard deviation). Sampling: schedulers.sample_loop (DDIM of Song et al. 2021; eta = 1
is the ancestral DDPM sampler).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from genbench.errors import ConfigError
from reference_models.base import RefModel, adam, check_conditioning, cpu_randn, ema_update, frozen_copy
from reference_models.configs import DDPM2DConfig, DDPMConfig, DiffusionFields, check_sampler
from reference_models.data import DataInfo, TrainData
from reference_models.layers import AttnBlock, Downsample, ResBlock, TimeEmbedding, Upsample, group_norm, mlp
from reference_models.sampling import Chunk, SampleOptions
from reference_models.schedulers import NoiseSchedule, sample_loop


class EmbSequential(nn.Sequential):
    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for m in self:
            x = m(x, emb)
        return x


class UNet(nn.Module):
    """eps_theta(x_t [N, C, S, S], t [N], y [N] | None) -> [N, C, S, S]; attention at the lowest level."""

    def __init__(self, cin: int, base: int, mult: Sequence[int], num_res_blocks: int,
                 num_classes: int | None = None) -> None:
        super().__init__()
        emb, last = 4 * base, len(mult) - 1
        self.embed = TimeEmbedding(base, emb, num_classes)
        self.conv_in = nn.Conv2d(cin, base, 3, padding=1)
        self.down, self.up, skips, ch = nn.ModuleList(), nn.ModuleList(), [base], base
        for i, m in enumerate(mult):
            for _ in range(num_res_blocks):
                blocks: list[nn.Module] = [ResBlock(ch, base * m, emb)]
                ch = base * m
                blocks += [AttnBlock(ch)] if i == last else []
                self.down.append(EmbSequential(*blocks))
                skips.append(ch)
            if i != last:
                self.down.append(EmbSequential(Downsample(ch)))
                skips.append(ch)
        self.mid = EmbSequential(ResBlock(ch, ch, emb), AttnBlock(ch), ResBlock(ch, ch, emb))
        for i, m in reversed(list(enumerate(mult))):
            for j in range(num_res_blocks + 1):
                blocks = [ResBlock(ch + skips.pop(), base * m, emb)]
                ch = base * m
                blocks += [AttnBlock(ch)] if i == last else []
                blocks += [Upsample(ch)] if i != 0 and j == num_res_blocks else []
                self.up.append(EmbSequential(*blocks))
        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(ch, cin, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.embed(t, y)  # [N, 4 * base]
        h = self.conv_in(x)
        hs = [h]
        for mod in self.down:
            h = mod(h, emb)
            hs.append(h)
        h = self.mid(h, emb)
        for mod in self.up:
            h = mod(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


class MLPDenoiser(nn.Module):
    """eps_theta(x_t [N, 2], t [N]) -> [N, 2]: an MLP on [x_t, embedding(t)]."""

    def __init__(self, hidden: Sequence[int], emb: int = 64) -> None:
        super().__init__()
        self.embed = TimeEmbedding(emb, emb)
        self.net = mlp([2 + emb, *hidden, 2], act=nn.SiLU)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(torch.cat([x, self.embed(t)], dim=1))


class DiffusionModel(RefModel):
    """Shared eps-prediction training and sampling; subclasses set self.net and item_shape."""

    clip_x0: float | None = 1.0

    def setup(self, cfg: DiffusionFields, net: nn.Module) -> None:
        self.schedule = NoiseSchedule.named(cfg.schedule, cfg.timesteps, cfg.beta_start, cfg.beta_end)
        self.net = net
        self.ema = frozen_copy(net) if cfg.ema_decay > 0 else None

    @property
    def conditional(self) -> bool:
        return bool(self.cfg.conditional and self.info.num_classes > 0)

    @property
    def label_classes(self) -> int | None:
        """Number of classes for the U-Net's label embedding (None: unconditional)."""
        return self.info.num_classes if self.conditional else None

    def drop_labels(self, y: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor | None:
        """Training labels with p_uncond of them replaced by the null token (None if unconditional)."""
        if not self.conditional:
            return None
        drop = (torch.rand(len(y), generator=gen) < self.cfg.p_uncond).to(y.device)  # [B] label dropout
        return torch.where(drop, torch.full_like(y, self.info.num_classes), y)

    @property
    def sampling_net(self) -> nn.Module:
        return self.ema if self.ema is not None else self.net

    def diffusion_loss(self, x0: torch.Tensor, y: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
        t = torch.randint(self.cfg.timesteps, (len(x0),), generator=gen).to(x0.device)  # [B]
        noise = cpu_randn(tuple(x0.shape), gen, x0.device)
        return F.mse_loss(self.net(self.schedule.q_sample(x0, t, noise), t, y), noise)

    def diffusion_step(self, x0, y, gen, opt: torch.optim.Optimizer) -> float:
        loss = self.diffusion_loss(x0, y, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if self.ema is not None:
            ema_update(self.ema, self.net, self.cfg.ema_decay)
        return float(loss.detach())

    def resolve_options(self, sampler=None, steps=None, eta=None, guidance=None, class_label=None) -> SampleOptions:
        cfg = self.cfg
        sampler = sampler or cfg.sampler
        if sampler == "ddpm" and eta is not None and eta != 1.0:
            raise ConfigError("--eta: the ddpm sampler is ancestral (eta = 1); use --sampler ddim to set eta")
        default_steps = cfg.sample_steps if sampler == cfg.sampler else cfg.timesteps
        steps = default_steps if steps is None else steps
        eta = 1.0 if sampler == "ddpm" else (cfg.eta if eta is None else eta)
        check_sampler(sampler, steps, eta, cfg.timesteps)
        check_conditioning(self, guidance, class_label)
        return SampleOptions(sampler, int(steps), float(eta), *self.guidance_options(guidance, class_label))

    def guidance_options(self, guidance, class_label) -> tuple:
        if not self.conditional:
            return (None, None)
        return (float(self.cfg.guidance if guidance is None else guidance), class_label)

    def guided_eps(self, labels: torch.Tensor | None, w: float | None) -> Callable:
        """eps(x, t): unconditional, or classifier-free guided eps_u + w (eps_c - eps_u) for `labels` [M]."""
        net = self.sampling_net

        def eps(x: torch.Tensor, t: int) -> torch.Tensor:
            tt = torch.full((len(x),), t, dtype=torch.long, device=x.device)
            if labels is None:
                return net(x, tt)
            null = torch.full_like(labels, self.info.num_classes)
            if w == 0:
                return net(x, tt, null)
            e_c = net(x, tt, labels)
            return e_c if w == 1 else (lambda e_u: e_u + w * (e_c - e_u))(net(x, tt, null))

        return eps

    def run_sampler(self, chunk: Chunk, opts: SampleOptions, eps_fn: Callable, shape: tuple[int, ...]) -> torch.Tensor:
        x = chunk.init.randn(*shape)  # [M, *shape] x_T
        return sample_loop(eps_fn, x, self.schedule, steps=opts.steps, eta=opts.eta,
                           noise_fn=lambda: chunk.step.randn(*shape), clip=self.clip_x0)

    def chunk_eps(self, chunk: Chunk, opts: SampleOptions) -> Callable:
        return self.guided_eps(chunk.labels if self.conditional else None, opts.guidance)


class DDPM(DiffusionModel):
    family = "ddpm"

    def __init__(self, cfg: DDPMConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        self.setup(cfg, UNet(info.channels, cfg.base_channels, cfg.channel_mult, cfg.num_res_blocks,
                             self.label_classes))

    def make_optimizers(self):
        return {"opt": adam(self.net.parameters(), self.cfg.lr)}

    def train_step(self, x, y, gen, step, opt):
        return {"loss": self.diffusion_step(x, self.drop_labels(y, gen), gen, opt["opt"])}

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        s = self.cfg.image_size
        return self.run_sampler(chunk, opts, self.chunk_eps(chunk, opts), (self.info.channels, s, s))  # [M, C, S, S]


class DDPM2D(DiffusionModel):
    family = "ddpm2d"
    kind = "points"
    clip_x0 = None

    def __init__(self, cfg: DDPM2DConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        self.setup(cfg, MLPDenoiser(cfg.hidden))
        self.register_buffer("data_scale", torch.ones(()))  # 1 / std of the training points

    def before_step(self, step: int, data: TrainData) -> None:
        if step == 0:
            self.data_scale.fill_(float(1.0 / data.x.double().std()))

    def make_optimizers(self):
        return {"opt": adam(self.net.parameters(), self.cfg.lr)}

    def train_step(self, x, y, gen, step, opt):
        return {"loss": self.diffusion_step(x * self.data_scale, None, gen, opt["opt"])}

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        return self.run_sampler(chunk, opts, self.chunk_eps(chunk, opts), (2,)) / self.data_scale  # [M, 2]
