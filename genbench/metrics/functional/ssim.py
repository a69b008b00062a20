"""SSIM (Wang, Bovik, Sheikh & Simoncelli 2004), vectorised over image pairs with torch in float64.

Matches scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255, channel_axis=0, win_size=w)`: local statistics from a
Gaussian filter (σ = 1.5, truncate 3.5, i.e. radius 5, 11 taps, normalised) applied to the whole image
with scipy's 'reflect' boundary (edge sample repeated: d c b a | a b c d | d c b a), the SSIM map cropped
by (w − 1)/2 on each side, averaged, then averaged over channels. w = 11, or for images smaller than
11 × 11 the largest odd window that fits (min(H, W), minus 1 if even); scikit-image's Gaussian
filter keeps its 11 taps in that case and only the crop shrinks, and so does this code.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from genbench.errors import ConfigError

SIGMA = 1.5
TRUNCATE = 3.5
K1, K2 = 0.01, 0.03
FULL_WINDOW = 2 * int(TRUNCATE * SIGMA + 0.5) + 1  # 11
_CHUNK_ELEMENTS = 1 << 22  # pixels per batch of the filter (bounded memory)


def window_size(height: int, width: int) -> int:
    """11, or the largest odd window that fits an image smaller than 11 × 11."""
    w = min(FULL_WINDOW, height, width)
    return w if w % 2 == 1 else w - 1


def _gaussian_taps(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    r = FULL_WINDOW // 2
    x = torch.arange(-r, r + 1, dtype=dtype, device=device)
    g = torch.exp(-0.5 * (x / SIGMA) ** 2)
    return g / g.sum()  # [11]


def _reflect_index(n: int, pad: int, device: torch.device) -> torch.Tensor:
    """scipy.ndimage 'reflect' indices for positions −pad .. n+pad−1 (period 2n, any pad)."""
    i = torch.arange(-pad, n + pad, device=device) % (2 * n)
    return torch.where(i >= n, 2 * n - 1 - i, i)


def _filter(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter of [B, 1, H, W] with reflect boundary, output [B, 1, H, W]."""
    r = len(taps) // 2
    h, w = x.shape[-2:]
    x = x[..., _reflect_index(h, r, x.device), :][..., _reflect_index(w, r, x.device)]
    x = F.conv2d(x, taps.view(1, 1, -1, 1))
    return F.conv2d(x, taps.view(1, 1, 1, -1))


def _ssim_maps(a: torch.Tensor, b: torch.Tensor, data_range: float, taps: torch.Tensor) -> torch.Tensor:
    """a, b: [B, 1, H, W] float64 -> SSIM map [B, 1, H, W] (population covariance)."""
    stack = _filter(torch.cat([a, b, a * a, b * b, a * b]), taps)  # [5B, 1, H, W]
    ux, uy, uxx, uyy, uxy = stack.chunk(5)
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def _as_nchw(x: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    if not torch.is_tensor(x):
        a = np.asarray(x)
        x = torch.from_numpy(a if a.flags.writeable else a.copy())
    t = x
    if t.ndim == 3:
        t = t[:, None]  # grayscale [N, H, W] -> [N, 1, H, W]
    if t.ndim != 4:
        raise ConfigError(f"{name}: expected images [N, C, H, W] or [N, H, W], got shape {tuple(t.shape)}")
    return t


def ssim_pairs(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, data_range: float = 255.0,
               device: str | torch.device = "cpu") -> tuple[np.ndarray, int]:
    """Per-pair SSIM [N] float64 of images x[i] vs y[i] ([N, C, H, W] or [N, H, W]), and the window used."""
    a, b = _as_nchw(x, "x"), _as_nchw(y, "y")
    if a.shape != b.shape:
        raise ConfigError(f"ssim: image shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    n, c, h, w = a.shape
    win = window_size(h, w)
    taps = _gaussian_taps(torch.float64, torch.device(device))
    pad = (win - 1) // 2
    per = max(1, _CHUNK_ELEMENTS // (c * h * w))
    out = []
    for s in range(0, n, per):
        ai = a[s:s + per].to(device=device, dtype=torch.float64).reshape(-1, 1, h, w)  # [b*C, 1, H, W]
        bi = b[s:s + per].to(device=device, dtype=torch.float64).reshape(-1, 1, h, w)
        m = _ssim_maps(ai, bi, data_range, taps)[..., pad:h - pad, pad:w - pad]
        out.append(m.mean(dim=(1, 2, 3)).view(-1, c).mean(dim=1))  # [b] channel-averaged
    return torch.cat(out).cpu().numpy(), win


def ssim_mean(x: np.ndarray, y: np.ndarray, data_range: float = 255.0) -> float:
    """Mean over pairs of SSIM(x[i], y[i])."""
    return float(ssim_pairs(x, y, data_range)[0].mean())


def random_pairs(n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` seeded index pairs (i, j) with i != j from range(n)."""
    rng = np.random.default_rng([seed, 0x551])
    i = rng.integers(0, n, size=count)
    j = (i + rng.integers(1, n, size=count)) % n  # never equal to i
    return i, j
