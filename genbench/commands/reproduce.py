"""`genbench reproduce pacgan-ring|pacgan-grid|ddpm-cifar10`: rerun a paper's protocol beside its table."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.commands.common import add_device, add_weights, eval_options, parse_weights, positive_int
from genbench.errors import InputError


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
    add_device(p)
    add_weights(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.table == "ddpm-cifar10":
        return _ddpm(args)
    return _pacgan(args)


def _pacgan(args: argparse.Namespace) -> int:
    import pandas as pd

    from genbench.bench.reproduce import PacganOptions, reproduce_pacgan

    opts = PacganOptions(trials=args.trials, out=Path(args.out), device=args.device, steps=args.steps,
                         progress=sys.stderr.isatty())
    if args.steps is None:
        print("PacGAN setup: 400,000 generator steps (400 epochs of 100,000 points, batch 100) per model and "
              "trial -- hours per run on a CPU; --steps N shortens it (then it is not the paper's setup).")
    else:
        print(f"NOTE: training shortened to {args.steps} steps: not the paper's setup.")

    def on_trial(model: str, t: int, row: dict) -> None:
        print(f"  {model} trial {t}: " + ", ".join(f"{k} {v:.3g}" for k, v in row.items()), flush=True)

    table = reproduce_pacgan(args.table, opts, on_trial)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"\n{args.table}: ours (mean ± SE over {args.trials} trials) vs PacGAN Table 1")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    agree = int(table["agrees"].sum())
    print(f"\n{agree}/{len(table)} cells agree with the paper within the reported error")
    if args.json:
        from genbench.io import atomic_write_text

        atomic_write_text(args.json, table.to_json(orient="records", indent=2))
    return 0


def _ddpm(args: argparse.Namespace) -> int:
    from genbench.eval.run import evaluate
    from genbench.bench.papers import get_paper
    from genbench.bench.reproduce import check_not_enough, ddpm_cifar10_requirements
    from genbench.sets.samples import open_samples

    missing = ddpm_cifar10_requirements(args.samples, args.ref, args.model)
    if missing:
        raise InputError("ddpm-cifar10 needs: " + "; ".join(missing))
    if args.model is not None:
        _check_inception_weights(args)  # before hours of sampling
        samples = _ddpm_samples(args)
        args.num_samples = args.num_samples or (args.num if args.num < 50_000 else None)
    else:
        samples = open_samples(args.samples)
    check_not_enough(args.num_samples or len(samples), 50_000 if args.num_samples is None else 1, "--samples")
    opts = eval_options(args, num_samples=args.num_samples, progress=sys.stderr.isatty())
    result = evaluate(samples, args.ref, protocol="tf-fid50k", name="ours", options=opts)
    print(result.table())
    print("\nDDPM (Ho et al. 2020) Table 1, CIFAR-10:")
    print(get_paper("ddpm-cifar10").frame.to_string())
    if args.num_samples is not None and args.num_samples < 50_000:
        print(f"\nNOTE: {args.num_samples} samples, not the paper's 50,000: not comparable")
    if args.json:
        result.save(args.json)
    return 0


def _ddpm_samples(args: argparse.Namespace):
    from genbench.bench.reproduce import ddpm_cifar10_samples
    from genbench.sets.diffusers import DiffusersOptions

    opts = DiffusersOptions(steps=args.steps, batch_size=args.batch_size, device=args.device,
                            progress=sys.stderr.isatty())
    print(f"sampling {args.num:,} images from {args.model} (seeds 0..{args.num - 1})", flush=True)
    return ddpm_cifar10_samples(args.model, args.num, Path(args.out) / "ddpm-cifar10", opts)


def _check_inception_weights(args: argparse.Namespace) -> None:
    from genbench.features import load_all, weights
    from genbench.features.base import EXTRACTORS

    load_all()
    name = EXTRACTORS.get("inception-v3-tf").weights_name
    weights.resolve(name, parse_weights(args.weights).get("inception-v3-tf"), args.allow_unverified_weights)
