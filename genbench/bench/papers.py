"""Published tables genbench carries, as data (PROTOCOLS.md, "Published numbers genbench carries").

Each PaperTable holds the paper, a citation, the protocol the numbers were measured under (a genbench
protocol name where one matches, plus the paper's own description) and a pandas DataFrame whose
numbers are exactly those in PROTOCOLS.md. Column names follow genbench's metric outputs where they
exist (fid, is, precision, recall, modes_captured, reverse_kl, kl); "<col>_std" holds a published ±.
NaN means the paper does not report that cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from genbench.registry import Registry

NAN = float("nan")


@dataclass(frozen=True)
class PaperTable:
    name: str
    paper: str
    citation: str
    protocol: str  # genbench protocol name, or "" where none matches
    protocol_description: str
    build: Callable[[], pd.DataFrame]

    @property
    def frame(self) -> pd.DataFrame:
        """A fresh copy of the published table (callers may modify it freely)."""
        return self.build()


PAPERS: Registry[PaperTable] = Registry("paper table")


def _ddpm_cifar10() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["DDPM (L_simple)", "DDPM (L, fixed isotropic Σ)"],
        "is": [9.46, 7.67], "is_std": [0.11, 0.13],
        "fid": [3.17, 13.51], "fid_test": [5.24, NAN],
    }).set_index("model")


def _ddpm_lsun() -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": ["LSUN Bedroom", "LSUN Bedroom", "LSUN Church", "LSUN Cat"],
        "model": ["DDPM", "DDPM (large)", "DDPM", "DDPM"],
        "fid": [6.36, 4.90, 7.89, 19.75],
    }).set_index(["dataset", "model"])


def _ldm() -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": ["CelebA-HQ", "FFHQ", "LSUN-Churches", "LSUN-Bedrooms", "ImageNet"],
        "model": ["LDM", "LDM", "LDM", "LDM", "LDM-4-G (cfg 1.5)"],
        "fid": [5.11, 4.98, 4.02, 2.95, 3.60],
        "is": [NAN, NAN, NAN, NAN, 247.67],
        "precision": [0.72, 0.73, 0.64, 0.66, 0.87],
        "recall": [0.49, 0.50, 0.52, 0.48, 0.48],
    }).set_index(["dataset", "model"])


def _pacgan_2d() -> pd.DataFrame:
    return pd.DataFrame({
        "mixture": ["ring", "ring", "grid", "grid"],
        "model": ["GAN", "PacGAN2", "GAN", "PacGAN2"],
        "modes_captured": [6.3, 7.9, 17.3, 23.8], "modes_captured_std": [0.5, 0.1, 0.8, 0.7],
        "high_quality_pct": [98.2, 95.6, 94.8, 91.3], "high_quality_pct_std": [0.2, 2.0, 0.7, 0.8],
        "reverse_kl": [0.45, 0.07, 0.70, 0.13], "reverse_kl_std": [0.09, 0.03, 0.07, 0.04],
    }).set_index(["mixture", "model"])


def _veegan_stacked() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["DCGAN", "VEEGAN", "PacDCGAN2"],
        "modes_captured": [99, 150, 1000],
        "kl": [3.40, 2.95, 0.06],
        "source": ["VEEGAN", "VEEGAN", "PacGAN"],
    }).set_index("model")


PAPERS.add("ddpm-cifar10", PaperTable(
    "ddpm-cifar10", "DDPM (Ho et al. 2020), Table 1",
    "Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020.", "tf-fid50k",
    "CIFAR-10 unconditional; 50k samples vs the training set (fid_test: vs the test set); TF Inception; "
    "IS ± std over 10 splits.", _ddpm_cifar10))
PAPERS.add("ddpm-lsun", PaperTable(
    "ddpm-lsun", "DDPM (Ho et al. 2020), LSUN 256×256",
    "Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020.", "tf-fid50k",
    "LSUN 256×256 FID with TF Inception, 50k samples vs the training set.", _ddpm_lsun))
PAPERS.add("ldm", PaperTable(
    "ldm", "LDM (Rombach et al. 2022)",
    "Rombach, Blattmann, Lorenz, Esser, Ommer. High-Resolution Image Synthesis with Latent Diffusion "
    "Models. CVPR 2022.", "ldm",
    "50k samples vs the training set; FID and precision/recall (k=3) on TF Inception features; "
    "ImageNet row class-conditional with classifier-free guidance scale 1.5.", _ldm))
PAPERS.add("pacgan-2d", PaperTable(
    "pacgan-2d", "PacGAN (Lin et al. 2018), 2-D mixture experiments",
    "Lin, Khetan, Fanti, Oh. PacGAN: The power of two samples in generative adversarial networks. "
    "NeurIPS 2018.", "toy2d-default",
    "Ring of 8 Gaussians (radius 1, σ 0.01) and grid of 25 (σ 0.05); 2,500 samples; mean ± std over 10 "
    "trials; generator 4×400 ReLU, discriminator 3×200 (PacGAN2 packs two samples), 100,000 training "
    "points, batch 100, Adam. A sample is high quality within 3σ of its nearest mode.", _pacgan_2d))
PAPERS.add("veegan-stacked-mnist", PaperTable(
    "veegan-stacked-mnist", "VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018), Stacked MNIST",
    "Srivastava, Valkov, Russell, Gutmann, Sutton. VEEGAN: Reducing Mode Collapse in GANs using Implicit "
    "Variational Learning. NeurIPS 2017; PacDCGAN2 row from Lin et al. 2018.", "stacked-digits-default",
    "Stacked MNIST, 1,000 modes: modes captured (of 1,000) and KL of the mode histogram against uniform, "
    "by a pretrained classifier per channel. genbench's analogue uses stacked digits.", _veegan_stacked))


def get_paper(name: str) -> PaperTable:
    """The published table called `name` (UnknownNameError with a "did you mean" otherwise)."""
    return PAPERS.get(name)
