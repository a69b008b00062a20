"""Noise schedule and samplers: DDPM (Ho et al. 2020) and DDIM (Song, Meng & Ermon 2021).

The linear beta schedule and eps-prediction are DDPM's; the cosine schedule is Nichol & Dhariwal's. Sampling over a subsequence tau of K timesteps
uses the generalised (DDIM) update

    x_prev = sqrt(a_prev) * x0_hat + sqrt(1 - a_prev - sigma^2) * eps_hat + sigma * z,
    sigma  = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev),

where a_t is the cumulative product of alphas. eta = 0 is the deterministic DDIM sampler; eta = 1 is the
ancestral DDPM sampler (with K = T it is exactly DDPM's update with sigma_t^2 = beta-tilde_t; with K < T
it is DDPM on the respaced schedule of Nichol & Dhariwal 2021). Coefficients are float64 Python scalars,
shared by the batch, so nothing here depends on the batch size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

EpsFn = Callable[[torch.Tensor, int], torch.Tensor]  # (x_t [N, ...], t) -> eps_hat [N, ...]
NoiseFn = Callable[[], torch.Tensor]                   # one standard-normal draw per sample, [N, ...]


def linear_betas(timesteps: int, beta_start: float, beta_end: float) -> np.ndarray:
    """DDPM's linear schedule, float64 [T]."""
    return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal 2021 (improved DDPM) eq. 17: alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) pi/2).

    betas_t = 1 - alpha_bar(t+1) / alpha_bar(t), clipped at max_beta, float64 [T] (as improved-diffusion's
    betas_for_alpha_bar). The schedule destroys information more slowly than the linear one, which wastes
    fewer steps at pure noise on small images.
    """
    def f(t: np.ndarray) -> np.ndarray:
        return np.cos((t / timesteps + s) / (1 + s) * np.pi / 2) ** 2

    t = np.arange(timesteps, dtype=np.float64)
    return np.minimum(1.0 - f(t + 1) / f(t), max_beta)


@dataclass(frozen=True)
class NoiseSchedule:
    betas: np.ndarray  # float64 [T]

    @classmethod
    def linear(cls, timesteps: int, beta_start: float, beta_end: float) -> "NoiseSchedule":
        return cls(linear_betas(timesteps, beta_start, beta_end))

    @classmethod
    def named(cls, name: str, timesteps: int, beta_start: float, beta_end: float) -> "NoiseSchedule":
        """'linear' (DDPM: beta_start..beta_end) or 'cosine' (improved DDPM; the beta range is unused)."""
        if name == "cosine":
            return cls(cosine_betas(timesteps))
        return cls.linear(timesteps, beta_start, beta_end)

    @property
    def timesteps(self) -> int:
        return len(self.betas)

    @property
    def alpha_bar(self) -> np.ndarray:
        return np.cumprod(1.0 - self.betas)  # float64 [T]

    def q_mean_std(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Closed form q(x_t | x_0) = N(sqrt(a_t) x_0, (1 - a_t) I): per-sample (mean coef, std) [N]."""
        ab = torch.from_numpy(self.alpha_bar)[t.cpu()]
        return ab.sqrt().float().to(t.device), (1.0 - ab).sqrt().float().to(t.device)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Draw x_t ~ q(x_t | x_0) with the given standard-normal noise; t is [N] long."""
        mean, std = self.q_mean_std(t)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return mean.view(shape) * x0 + std.view(shape) * noise


def timestep_sequence(timesteps: int, steps: int) -> list[int]:
    """K timesteps, evenly spaced in [0, T-1] and descending, always including T-1 and 0 when K > 1."""
    if steps >= timesteps:
        return list(range(timesteps - 1, -1, -1))
    seq = np.unique(np.rint(np.linspace(0, timesteps - 1, steps)).astype(int))
    return [int(t) for t in seq[::-1]]


def step_coefficients(alpha_bar: np.ndarray, t: int, t_prev: int, eta: float) -> tuple[float, float, float, float]:
    """(a_t, a_prev, sigma, direction coefficient) of the generalised update; t_prev = -1 means a_prev = 1."""
    a_t = float(alpha_bar[t])
    a_prev = float(alpha_bar[t_prev]) if t_prev >= 0 else 1.0
    sigma = eta * np.sqrt((1 - a_prev) / (1 - a_t)) * np.sqrt(max(1 - a_t / a_prev, 0.0))
    direction = np.sqrt(max(1 - a_prev - sigma ** 2, 0.0))
    return a_t, a_prev, float(sigma), float(direction)


def generalized_step(x: torch.Tensor, eps: torch.Tensor, coefs: tuple[float, float, float, float],
                     noise: torch.Tensor | None, clip: float | None) -> torch.Tensor:
    """One DDIM/DDPM update from x_t to x_prev given eps_hat; noise is needed only when sigma > 0."""
    a_t, a_prev, sigma, direction = coefs
    x0 = (x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
    if clip is not None:
        x0 = x0.clamp(-clip, clip)
        eps = (x - np.sqrt(a_t) * x0) / np.sqrt(1 - a_t)
    out = np.sqrt(a_prev) * x0 + direction * eps
    if sigma > 0:
        out = out + sigma * noise
    return out


def sample_loop(eps_fn: EpsFn, x: torch.Tensor, schedule: NoiseSchedule, *, steps: int, eta: float,
                noise_fn: NoiseFn, clip: float | None = None, progress: Callable[[], None] | None = None
                ) -> torch.Tensor:
    """Run the sampler from x_T = x [N, ...] down to x_0 over `steps` timesteps."""
    seq = timestep_sequence(schedule.timesteps, steps)
    alpha_bar = schedule.alpha_bar
    for i, t in enumerate(seq):
        t_prev = seq[i + 1] if i + 1 < len(seq) else -1
        coefs = step_coefficients(alpha_bar, t, t_prev, eta)
        noise = noise_fn() if coefs[2] > 0 else None  # drawn only when used: eta = 0 draws nothing
        x = generalized_step(x, eps_fn(x, t), coefs, noise, clip)
        if progress is not None:
            progress()
    return x
