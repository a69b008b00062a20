"""What a pilot can and cannot tell: its estimated effect per rule, and the rate intervals it implies.

A candidate pilot is one draw: its mean difference δ̂ from the baseline pilot is the true difference plus
noise of standard error se (genbench.compare.laws: the spread of d at the pilot's size). Two pilots of one
distribution give δ̂ ≠ 0, and a planner that takes δ̂ as the truth predicts detection where there is
nothing to detect (issue #28, point 3: 62.9%, 10.5% and 52.6% for three such pairs, against 5% measured).

  effect          per rule, δ̂ with its 95% interval δ̂ ± 1.96·se (resampled rules), or the rule's difference
                  on the whole pilots with the gate's own interval (exact rules: a count, zero width; a
                  direct comparison such as class_share, its exact interval). Distinguishable from zero when
                  the interval excludes 0.
  rate interval   the stop rate at δ moved by z_R·se towards passing (low end) and towards failing (high
                  end) on every resampled rule at once, z_R = Φ⁻¹(1 − 0.025/R) (Bonferroni over the R
                  resampled rules, so the R intervals of δ hold together with probability >= 95%; the rate is
                  monotone in each δ). An exact rule's rate is simulated on draws from the pilots, so it
                  carries their difference too: its low end is simulated with the candidate's rows mixed
                  with the baseline's so that the effect sits at the favourable end of its interval
                  (`favourable_weight`), its high end is the plug-in's; each enters with its Wilson bound.
  expected rate   the stop rate averaged over δ ~ Normal(δ̂, se²): the spread of d widened to √(sd² + se²).
Pure maths and text; no IO.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Mapping

from genbench.compare.gate import Z95

LEVEL = 0.95


def simultaneous_z(rules: int, level: float = LEVEL) -> float:
    """Two-sided normal quantile holding `rules` intervals together at `level` (Bonferroni)."""
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / (2.0 * max(rules, 1)))


def wilson(rate: float, draws: int, z: float = Z95) -> tuple[float, float]:
    """Wilson 95% interval of a rate simulated on `draws` draws."""
    if draws <= 0:
        return 0.0, 1.0
    centre = (rate + z * z / (2 * draws)) / (1 + z * z / draws)
    half = z * math.sqrt(rate * (1 - rate) / draws + z * z / (4 * draws * draws)) / (1 + z * z / draws)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def resampled_effect(delta: float, se: float) -> dict:
    """A resampled rule's pilot effect: δ̂, se, its 95% interval and whether it excludes 0."""
    lo, hi = delta - Z95 * se, delta + Z95 * se
    return {"delta": delta, "se": se, "ci95": [lo, hi], "distinguishable": bool(lo > 0 or hi < 0)}


def exact_effect(diff: float, lo: float, hi: float) -> dict:
    """An exact rule's difference on the whole pilots, with the gate's interval (zero width for a count)."""
    return {"delta": diff, "se": None, "ci95": [lo, hi], "distinguishable": bool(lo > 0 or hi < 0)}


def favourable_weight(op: str, effect: Mapping[str, object]) -> float:
    """The candidate's share w of a mixture with the baseline whose effect w·δ̂ is the favourable end of the
    pilot effect's interval (the end towards passing; a class share's change is linear in w): 0 when that
    end, or δ̂ itself, lies on the passing side of 0."""
    sign = 1.0 if op == "<=" else -1.0  # + : towards failing
    lo, hi = effect["ci95"]
    toward, end = sign * float(effect["delta"]), sign * float(lo if op == "<=" else hi)
    return min(max(end / toward, 0.0), 1.0) if toward > 0 else 0.0


def undistinguished(effects: Mapping[str, dict]) -> str | None:
    """The explicit statement when no rule sees the candidate pilot's effect, else None."""
    if not effects or any(e["distinguishable"] for e in effects.values()):
        return None
    return ("the candidate pilot's effect is not distinguishable from zero on any rule (every rule's 95% "
            "interval of the difference contains 0): it may be no different from the baseline, in which "
            "case its stop rate is the false-alarm rate; its detection lies anywhere in the stated interval")

