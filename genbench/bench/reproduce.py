"""Reproduce published tables: PacGAN Table 1 (2-D mixtures, CPU) and DDPM CIFAR-10 (needs data + weights).

PacGAN (Lin et al. 2018): the plain GAN and PacGAN2 are trained with the paper's setup (generator
4x400 ReLU, discriminator 3x200, 100,000 training points, batch 100, Adam; reference_models preset
"paper") once per trial (trial t uses seed t), 2,500 samples are drawn, and modes captured,
high-quality % and reverse KL are averaged over trials (mean +- standard error). A cell "agrees" when
our mean +- standard error overlaps the paper's mean +- reported error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from genbench.errors import ConfigError, InputError
from genbench.metrics import METRICS, MetricConfig, MetricInputs, load_all
from genbench.bench.papers import get_paper

PACGAN = {"pacgan-ring": ("ring", "toy2d-ring8"), "pacgan-grid": ("grid", "toy2d-grid25")}
PACGAN_MODELS = (("GAN", 1), ("PacGAN2", 2))
PACGAN_COLUMNS = ("modes_captured", "high_quality_pct", "reverse_kl")
N_EVAL = 2500


@dataclass(frozen=True)
class PacganOptions:
    trials: int = 10
    out: Path = Path("runs/reproduce")
    device: str = "auto"
    preset: str = "paper"
    steps: int | None = None
    progress: bool = False


def mode_scores(points: np.ndarray, dataset: str) -> dict[str, float]:
    """Modes captured, high-quality % and reverse KL of 2-D samples (genbench's `modes` metric)."""
    load_all()
    inputs = MetricInputs({"fake.points": points, "fake.embedding": points}, {"dataset": dataset})
    vals = METRICS.get("modes")().compute(inputs, MetricConfig(bootstrap=0))
    return {"modes_captured": vals["modes_captured"].value,
            "high_quality_pct": 100.0 * vals["high_quality_fraction"].value,
            "reverse_kl": vals["reverse_kl"].value}


def pacgan_trial(dataset: str, pack: int, trial: int, opts: PacganOptions) -> dict[str, float]:
    import reference_models

    where = opts.out / dataset / f"pack{pack}" / f"trial{trial}"
    reference_models.train("gan2d", dataset=dataset, preset=opts.preset, out=where, seed=trial,
                           device=opts.device, steps=opts.steps, overrides={"pack": pack}, progress=opts.progress)
    pts = reference_models.load(where, device=opts.device).sample(list(range(N_EVAL)))
    return mode_scores(np.asarray(pts.cpu().numpy() if hasattr(pts, "cpu") else pts, dtype=np.float64), dataset)


def _summarise(rows: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    out = {}
    for col in PACGAN_COLUMNS:
        v = np.array([r[col] for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]  # reverse KL is undefined for a trial without any high-quality sample
        se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        out[col] = (float(v.mean()) if len(v) else float("nan"), se)
    return out


def compare_with_paper(mixture: str, ours: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """One row per (model, quantity): ours +- SE, paper +- error, delta, agreement."""
    paper = get_paper("pacgan-2d").frame.loc[mixture]
    rows = []
    for model, cols in ours.items():
        for col, (mean, se) in cols.items():
            p, perr = float(paper.loc[model, col]), float(paper.loc[model, f"{col}_std"])
            se0 = 0.0 if np.isnan(se) else se
            agree = abs(mean - p) <= perr + se0
            rows.append({"model": model, "quantity": col, "ours": mean, "ours_se": se, "paper": p,
                         "paper_err": perr, "delta": mean - p, "agrees": bool(agree)})
    return pd.DataFrame(rows)


def reproduce_pacgan(name: str, opts: PacganOptions,
                     on_trial: Callable[[str, int, dict], None] | None = None) -> pd.DataFrame:
    if name not in PACGAN:
        raise ConfigError(f"unknown PacGAN table {name!r} (use {', '.join(PACGAN)})")
    if opts.trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {opts.trials}")
    mixture, dataset = PACGAN[name]
    ours = {}
    for model, pack in PACGAN_MODELS:
        rows = []
        for t in range(opts.trials):
            rows.append(pacgan_trial(dataset, pack, t, opts))
            if on_trial:
                on_trial(model, t, rows[-1])
        ours[model] = _summarise(rows)
    return compare_with_paper(mixture, ours)


def ddpm_cifar10_requirements(samples: str | None, ref: str | None, model: str | None = None) -> list[str]:
    """What is missing to evaluate with the DDPM paper's CIFAR-10 protocol (empty list: ready)."""
    missing = []
    if samples is not None and model is not None:
        raise ConfigError("ddpm-cifar10: give either --samples or --model, not both")
    if samples is None and model is None:
        missing.append("--samples: 50,000 generated 32x32 images (folder, or ADM-layout .npz arr_0 uint8 NHWC), "
                       "or --model DIR: a diffusers DDPMPipeline folder (e.g. google/ddpm-cifar10-32 saved "
                       "locally) to regenerate them")
    elif samples is not None and not Path(samples).exists():
        missing.append(f"--samples {samples}: no such file or folder")
    elif model is not None and not (Path(model) / "model_index.json").is_file():
        missing.append(f"--model {model}: not a diffusers pipeline folder (no model_index.json)")
    if ref is None:
        missing.append("--ref: the CIFAR-10 training set (50,000 images), e.g. exported with torchvision's "
                       "CIFAR10(train=True) to a PNG folder or .npz; genbench does not download datasets")
    elif not Path(ref).exists():
        missing.append(f"--ref {ref}: no such file or folder")
    return missing


def check_not_enough(n: int, needed: int, what: str) -> None:
    if n < needed:
        raise InputError(f"{what}: the DDPM protocol uses {needed:,} images, got {n:,}")


def ddpm_cifar10_samples(model: str | Path, num: int, out: Path, opts=None):
    """Regenerate DDPM's CIFAR-10 samples (seeds 0..num-1, the pipeline's own 1000 steps unless opts.steps)
    from a local diffusers pipeline folder; rank 0 also writes them to out/samples-<num>.npz."""
    from genbench.sets.export import export_npz
    from genbench.sets.diffusers import DiffusersOptions
    from genbench.sets.samples import SampleSet

    samples = SampleSet.from_diffusers(model, range(num), opts or DiffusersOptions())
    export_npz(samples, Path(out) / f"samples-{num}.npz")
    return samples
