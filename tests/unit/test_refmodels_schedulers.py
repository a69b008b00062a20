"""Noise schedule and samplers: DDPM forward process vs closed form, DDIM determinism, DDPM update."""
from __future__ import annotations

import numpy as np
import torch

from reference_models.schedulers import (NoiseSchedule, generalized_step, sample_loop, step_coefficients,
                                         timestep_sequence)

SCHED = NoiseSchedule.linear(1000, 1e-4, 0.02)


def test_forward_process_matches_closed_form():
    """Iterating q(x_t | x_{t-1}) = N(sqrt(1-b_t) x_{t-1}, b_t I) gives q(x_t | x_0) = N(sqrt(a_t) x_0, (1-a_t) I)."""
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([1.5, -0.5, 0.0], dtype=torch.float64)  # [3]
    n, t_end = 200_000, 300
    x = x0.expand(n, 3).clone()
    for t in range(t_end):
        b = float(SCHED.betas[t])
        x = np.sqrt(1 - b) * x + np.sqrt(b) * torch.randn(x.shape, generator=g, dtype=torch.float64)
    ab = SCHED.alpha_bar[t_end - 1]
    se = np.sqrt((1 - ab) / n)
    assert torch.allclose(x.mean(0), np.sqrt(ab) * x0, atol=5 * se)
    assert torch.allclose(x.var(0), torch.full((3,), 1 - ab, dtype=torch.float64), rtol=0.02)
    # and q_sample draws exactly from that closed form
    t = torch.full((n,), t_end - 1)
    xs = SCHED.q_sample(x0.float().expand(n, 3), t, torch.randn((n, 3), generator=g))
    assert torch.allclose(xs.mean(0).double(), np.sqrt(ab) * x0, atol=5 * se)
    assert torch.allclose(xs.var(0).double(), torch.full((3,), 1 - ab, dtype=torch.float64), rtol=0.02)


def test_alpha_bar_and_timestep_sequence():
    assert np.isclose(SCHED.alpha_bar[0], 1 - 1e-4) and SCHED.alpha_bar[-1] < 1e-4
    seq = timestep_sequence(1000, 50)
    assert seq[0] == 999 and seq[-1] == 0 and len(seq) == 50 and seq == sorted(seq, reverse=True)
    assert timestep_sequence(10, 10) == list(range(9, -1, -1))


def _eps_fn(x, t):
    return torch.tanh(x) * (t / 1000.0)  # any fixed function of (x, t)


def test_ddim_eta0_is_deterministic_and_draws_no_noise():
    x_t = torch.randn(4, 2, generator=torch.Generator().manual_seed(1))
    calls = []

    def noise():
        calls.append(1)
        return torch.randn(4, 2)

    a = sample_loop(_eps_fn, x_t, SCHED, steps=20, eta=0.0, noise_fn=noise)
    b = sample_loop(_eps_fn, x_t, SCHED, steps=20, eta=0.0, noise_fn=noise)
    assert torch.equal(a, b) and not calls


def test_eta1_full_steps_is_the_ddpm_ancestral_update():
    """eta = 1 over all T steps: mean and variance of DDPM's posterior q(x_{t-1} | x_t, x0_hat)."""
    ab, betas = SCHED.alpha_bar, SCHED.betas
    x, eps, z = torch.randn(3, 5, dtype=torch.float64).unbind(0)
    t = 500
    out = generalized_step(x, eps, step_coefficients(ab, t, t - 1, 1.0), z, None)
    x0 = (x - np.sqrt(1 - ab[t]) * eps) / np.sqrt(ab[t])
    c0 = np.sqrt(ab[t - 1]) * betas[t] / (1 - ab[t])
    ct = np.sqrt(1 - betas[t]) * (1 - ab[t - 1]) / (1 - ab[t])
    mean = c0 * x0 + ct * x
    var = betas[t] * (1 - ab[t - 1]) / (1 - ab[t])
    assert torch.allclose(out, mean + np.sqrt(var) * z, atol=1e-10)
