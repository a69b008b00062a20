"""The gate's rules decided together: P(any rule stops) when the rules' differences are correlated.

One candidate's sample set feeds every rule, so the rules' differences move together: fd in the
classifier's space and fd_pixels both rise when a draw happens to be atypical, recall falls with them.
Multiplying per-rule pass probabilities (independence) then over-predicts the chance that some rule
stops: measured on digits-default at N = 250, per-rule false alarms of fd 52%, fd_pixels 72% and
recall 10% combine to 88% if independent, while the gate stopped 75% of real-vs-real draws.

Model: d = δ + sd(N)·u with u ~ Normal(0, C), C the correlation of the rules' differences over the
planner's joint pilot draws (the same rows of every rule's pilot; each rule's draws standardised at each
subset size, then pooled, so C is taken as independent of N). A rule passes when its interval
d ± z·s(N) lies within its tolerance; P(all pass) is simulated with one fixed set of normal draws, so a
plan is deterministic. Pure maths on arrays.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

SIMULATIONS = 20_000  # normal draws per plan: a rate's Monte Carlo standard error <= 0.4 points


def correlation(draws: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """[R, R] correlation of R rules' differences. draws[r][k]: rule r's [D] differences at subset size k, the
    k-th arrays of all rules computed on the same rows. A rule whose draws do not vary is uncorrelated."""
    cols = []
    for per_size in draws:
        z = [(x - x.mean()) / sd if (sd := float(np.std(x, ddof=1))) > 0 else np.zeros_like(x) for x in per_size]
        cols.append(np.concatenate(z))
    m = np.column_stack(cols)  # [sum_k D_k, R]
    dof = sum(len(x) - 1 for x in draws[0])
    c = (m.T @ m) / max(dof, 1)  # [R, R]: each non-constant column's sum of squares is dof
    np.fill_diagonal(c, 1.0)
    return np.clip(c, -1.0, 1.0)


def normals(n_rules: int, seed: int, size: int = SIMULATIONS) -> np.ndarray:
    """[size, n_rules] standard normal draws, fixed by the seed."""
    return np.random.default_rng([seed, 0x701]).standard_normal((size, n_rules))


def all_pass(slack: np.ndarray, sign: np.ndarray, sd: np.ndarray, corr: np.ndarray, z: np.ndarray) -> float:
    """P(every rule passes). Per rule r: slack[r] = margin − half-width (how far the point difference may move
    towards the tolerance), sign[r] = +1 for `<=` and −1 for `>=`, sd[r] = spread of d at N.
    z [S, R]: standard normal draws, correlated here by C's symmetric square root."""
    w, v = np.linalg.eigh(corr)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T  # [R, R], root @ root = C
    u = z @ root  # [S, R] ~ Normal(0, C)
    ok = sign[None, :] * sd[None, :] * u <= slack[None, :]  # [S, R]
    return float(np.mean(ok.all(axis=1)))
