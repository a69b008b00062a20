"""The `genbench generate` parser (implementation: genbench.commands.generate)."""
from __future__ import annotations

import argparse

from genbench.commands.common import QUIET_HELP, add_device, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="sample a trained reference model from fixed seeds")
    p.add_argument("run_dir", metavar="DIR", nargs="?", default=None, help="run folder written by `genbench train`")
    p.add_argument("--diffusers", default=None, metavar="PIPELINE_DIR",
                   help="sample a local diffusers pipeline folder (DDPM, DDIM, LDM) instead of a run folder")
    p.add_argument("--num", type=positive_int, default=None, help="number of samples (seeds S..S+N-1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seed", type=int, default=None, help="first seed (default 0)")
    g.add_argument("--seeds", default=None, help="explicit seeds, e.g. 0-999 or 0,5,10-19")
    p.add_argument("--batch-size", type=positive_int, default=64,
                   help="seeds per network call (diffusers: every call is padded to this size)")
    p.add_argument("--sampler", choices=("ddpm", "ddim"), default=None, help="diffusion models: sampler")
    p.add_argument("--steps", type=positive_int, default=None, help="diffusion models: sampling steps K")
    p.add_argument("--eta", type=float, default=None, help="DDIM eta (0 = deterministic)")
    p.add_argument("--guidance", type=float, default=None,
                   help="conditional ddpm/ldm: classifier-free guidance scale")
    p.add_argument("--class", dest="class_label", type=int, default=None,
                   help="class-conditional models (any image family): generate this class only")
    p.add_argument("--out", required=True, help="output .npz file or PNG folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out folder (only one that genbench wrote)")
    p.add_argument("--quiet", "--no-progress", dest="no_progress", action="store_true", help=QUIET_HELP)
    add_device(p)
    p.set_defaults(func=Run("generate"))
