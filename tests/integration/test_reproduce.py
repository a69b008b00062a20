"""`genbench reproduce`: the PacGAN table machinery end to end on a shortened run, and the DDPM CIFAR-10
protocol's clear message when data or weights are missing."""
from __future__ import annotations

import numpy as np

from genbench.cli import main
from genbench.data import load_dataset
from genbench.bench.reproduce import PacganOptions, compare_with_paper, mode_scores, reproduce_pacgan


def test_mode_scores_of_real_ring_points_are_perfect():
    pts = load_dataset("toy2d-ring8").data[:2500]
    s = mode_scores(np.asarray(pts), "toy2d-ring8")
    # 2-D Gaussian: P(r < 3 sigma) = 1 - exp(-4.5) = 98.89%
    assert s["modes_captured"] == 8 and 98.3 < s["high_quality_pct"] < 99.5 and s["reverse_kl"] < 0.01


def test_compare_with_paper_flags_agreement():
    ours = {"GAN": {"modes_captured": (6.3, 0.1), "high_quality_pct": (50.0, 1.0), "reverse_kl": (0.45, 0.0)}}
    t = compare_with_paper("ring", ours).set_index("quantity")
    assert bool(t.loc["modes_captured", "agrees"]) and not bool(t.loc["high_quality_pct", "agrees"])
    assert t.loc["high_quality_pct", "delta"] == 50.0 - 98.2


def test_shortened_pacgan_reproduction_runs(tmp_path):
    table = reproduce_pacgan("pacgan-ring", PacganOptions(trials=2, out=tmp_path, device="cpu", steps=40))
    assert len(table) == 6 and set(table["model"]) == {"GAN", "PacGAN2"}
    # 40 steps: possibly no high-quality sample at all, so reverse KL may be undefined (NaN)
    assert table.set_index("quantity").loc["modes_captured", "ours"].notna().all()


def test_ddpm_cifar10_says_what_is_missing(capsys):
    assert main(["reproduce", "ddpm-cifar10"]) == 2
    err = capsys.readouterr().err
    assert "--samples" in err and "--ref" in err and "CIFAR-10" in err
