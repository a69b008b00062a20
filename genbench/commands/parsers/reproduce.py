"""The `genbench reproduce` parser (implementation: genbench.commands.reproduce)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, add_quiet, add_weights, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce a published table (pacgan-ring, pacgan-grid, ddpm-cifar10)")
    p.add_argument("table", choices=["pacgan-ring", "pacgan-grid", "ddpm-cifar10"])
    p.add_argument("--trials", type=positive_int, default=10, help="PacGAN: trials per model (paper: 10)")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="PacGAN: override training steps; ddpm-cifar10 --model: sampling steps (default 1000)")
    p.add_argument("--out", default="runs/reproduce", help="work folder for checkpoints")
    p.add_argument("--samples", default=None, help="ddpm-cifar10: the 50,000 generated images")
    p.add_argument("--model", default=None, help="ddpm-cifar10: a diffusers DDPMPipeline folder to sample from")
    p.add_argument("--num", type=positive_int, default=50_000,
                   help="ddpm-cifar10 --model: samples to generate (seeds 0..N-1; paper: 50,000)")
    p.add_argument("--ref", default=None, help="ddpm-cifar10: the CIFAR-10 training set")
    p.add_argument("--num-samples", type=positive_int, default=None,
                   help="ddpm-cifar10: evaluate fewer than 50,000 (then NOT the paper's protocol)")
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--json", default=None, help="write our numbers as JSON")
    add_quiet(p)
    add_device(p)
    add_weights(p)
    p.set_defaults(func=Run("reproduce"))
