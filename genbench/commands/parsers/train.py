"""The `genbench train` parser (implementation: genbench.commands.train).

The family names, their presets beyond tiny/quick/full, the families that take --pack and the built-in
datasets are declared here, not read from reference_models (which imports torch) or genbench.data (numpy);
tests/unit/test_cli_startup.py checks them against reference_models.family.FAMILIES and
genbench.data.DATASETS, so a new family or dataset fails that test until it is named here.
"""
from __future__ import annotations

import argparse

from genbench.commands.common import QUIET_HELP, add_device, positive_int
from genbench.commands.parsers import Run

FAMILIES = ("ddpm", "ddpm2d", "gan", "gan2d", "ldm", "vae")  # reference_models.family.FAMILIES, in its order
EXTRA_PRESETS = {"gan2d": ("pacgan2", "paper")}  # presets beyond tiny, quick and full, sorted
PACKING = ("gan2d",)  # families whose config has `pack` (PacGAN)
DATASETS = ("digits", "digits-test", "digits-train", "stacked-digits", "stacked-digits-test", "toy2d-grid25",
            "toy2d-ring8")  # genbench.data.DATASETS.names(), declared: that module imports numpy


def presets_help(extra: dict[str, tuple[str, ...]]) -> str:
    also = "; ".join(f"{n} also {', '.join(e)}" for n, e in extra.items() if e)
    return "tiny (a smoke test), quick (CPU minutes), full (GPU)" + (f"; {also}" if also else "")


def register(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(FAMILIES)
    p = sub.add_parser("train", help=f"train a reference model ({names})",
                       description="Train a reference model into DIR: model.safetensors, config.json, "
                                   "train_log.csv, loss.png and resumable checkpoints in DIR/ckpt. Rerunning "
                                   "on the same DIR resumes from the last checkpoint.")
    p.add_argument("family", help=f"model family: {names}")
    p.add_argument("--dataset", required=True,
                   help=f"built-in dataset: {', '.join(DATASETS)}")
    p.add_argument("--preset", default="quick", help=presets_help(EXTRA_PRESETS))
    p.add_argument("--steps", type=positive_int, default=None, help="override the preset's training steps")
    p.add_argument("--seed", type=int, default=0, help="training seed (weights init and data order)")
    p.add_argument("--pack", type=positive_int, default=None,
                   help=f"{', '.join(PACKING)}: PacGAN packing degree m (1 = plain GAN)")
    p.add_argument("--image-size", type=int, default=None, choices=(8, 16, 32),
                   help="image families: train at this size (8x8 digits are upsampled)")
    p.add_argument("--conditional", action="store_true",
                   help="image families: class-conditional model (ddpm/ldm: classifier-free guidance; gan: "
                        "projection discriminator; vae: CVAE); sample a class with `generate --class K`")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--quiet", "--no-progress", dest="no_progress", action="store_true", help=QUIET_HELP)
    add_device(p)
    p.set_defaults(func=Run("train"))
