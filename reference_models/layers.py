"""Shared network blocks: sinusoidal time embedding, GroupNorm residual blocks, self-attention, MLPs.

The U-Net blocks follow Ho et al. 2020 (DDPM, itself after the PixelCNN++ / Wide-ResNet blocks) and the
sinusoidal embedding of Vaswani et al. 2017. Every block here is per-sample (GroupNorm, no BatchNorm),
so a sample's output does not depend on the other samples in its batch.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(ch: int) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= min(32, ch / 4) that divides ch (>= 4 channels a group)."""
    groups = max(g for g in range(1, max(1, min(32, ch // 4)) + 1) if ch % g == 0)
    return nn.GroupNorm(groups, ch)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps t [N] -> [N, dim] float32."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]  # [N, half]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


class TimeEmbedding(nn.Module):
    """t (and optional class label) -> [N, emb_dim]; label index num_classes is the 'no label' token."""

    def __init__(self, base: int, emb_dim: int, num_classes: int | None = None) -> None:
        super().__init__()
        self.base = base
        self.mlp = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None

    def forward(self, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.mlp(timestep_embedding(t, self.base))  # [N, emb_dim]
        if self.label is not None and y is not None:
            emb = emb + self.label(y)
        return emb


class ResBlock(nn.Module):
    """GN-SiLU-conv, + projected embedding, GN-SiLU-conv, plus a (1x1) skip. emb_dim 0: no embedding."""

    def __init__(self, cin: int, cout: int, emb_dim: int = 0) -> None:
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout) if emb_dim else None
        self.norm2, self.conv2 = group_norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # [N, cout, H, W]
        if self.emb is not None and emb is not None:
            h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the H*W positions, with a residual connection."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.norm = group_norm(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)  # each [N, C, HW]
        att = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c), dim=-1)  # [N, HW, HW]
        out = torch.bmm(v, att.transpose(1, 2)).reshape(n, c, h, w)
        return x + self.proj(out)


class Downsample(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        return self.conv(x)  # [N, C, H/2, W/2]


class Upsample(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))  # [N, C, 2H, 2W]


def mlp(sizes: Sequence[int], act: type[nn.Module] = nn.ReLU, final_act: nn.Module | None = None) -> nn.Sequential:
    """Linear layers sizes[0] -> ... -> sizes[-1] with `act` between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    if final_act is not None:
        layers.append(final_act)
    return nn.Sequential(*layers)


class Maxout(nn.Module):
    """Linear to cout * pieces units, then the max over each unit's pieces (Goodfellow et al. 2013)."""

    def __init__(self, cin: int, cout: int, pieces: int) -> None:
        super().__init__()
        self.lin, self.pieces = nn.Linear(cin, cout * pieces), pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x).view(len(x), -1, self.pieces).amax(-1)  # [N, cout]


def maxout_mlp(sizes: Sequence[int], pieces: int) -> nn.Sequential:
    """Maxout hidden layers sizes[0] -> ... -> sizes[-2], then a linear output layer."""
    layers: list[nn.Module] = [Maxout(a, b, pieces) for a, b in zip(sizes[:-2], sizes[1:-1])]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def init_normal_(module: nn.Module, std: float) -> None:
    """Weights ~ N(0, std^2), biases 0, for every Linear layer (uses the caller's seeded RNG)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


class ConvEncoder(nn.Module):
    """x [N, C, S, S] -> features [N, channels[-1], S / 2^(len-1), ...]: ResBlocks with stride-2 downsampling."""

    def __init__(self, cin: int, channels: Sequence[int]) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(cin, channels[0], 3, padding=1)
        blocks: list[nn.Module] = []
        for i, ch in enumerate(channels):
            prev = channels[max(i - 1, 0)]
            if i > 0:
                blocks.append(Downsample(prev))
            blocks.append(ResBlock(prev, ch))
        self.blocks = nn.Sequential(*blocks)
        self.norm_out = group_norm(channels[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm_out(self.blocks(self.conv_in(x))))


class ConvDecoder(nn.Module):
    """features [N, channels[-1], s, s] -> [N, cout, s * 2^(len-1), ...] (mirror of ConvEncoder)."""

    def __init__(self, cout: int, channels: Sequence[int]) -> None:
        super().__init__()
        rev = list(reversed(channels))
        blocks: list[nn.Module] = []
        for i, ch in enumerate(rev):
            prev = rev[max(i - 1, 0)]
            blocks.append(ResBlock(prev, ch))
            if i < len(rev) - 1:
                blocks.append(Upsample(ch))
        self.blocks = nn.Sequential(*blocks)
        self.norm_out = group_norm(rev[-1])
        self.conv_out = nn.Conv2d(rev[-1], cout, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.conv_out(F.silu(self.norm_out(self.blocks(h))))
