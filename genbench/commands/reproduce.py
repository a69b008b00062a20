"""`genbench reproduce pacgan-ring|pacgan-grid|ddpm-cifar10`: rerun a paper's protocol beside its table."""
from __future__ import annotations

import argparse
from pathlib import Path

from genbench.commands.common import eval_options, parse_weights
from genbench.errors import InputError


def run(args: argparse.Namespace) -> int:
    if args.table == "ddpm-cifar10":
        return _ddpm(args)
    return _pacgan(args)


def _pacgan(args: argparse.Namespace) -> int:
    import pandas as pd

    from genbench.bench.reproduce import PacganOptions, reproduce_pacgan

    opts = PacganOptions(trials=args.trials, out=Path(args.out), device=args.device, steps=args.steps,
                         progress=not args.quiet)
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
    opts = eval_options(args, num_samples=args.num_samples, progress=not args.quiet)
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
                            progress=not args.quiet)
    print(f"sampling {args.num:,} images from {args.model} (seeds 0..{args.num - 1})", flush=True)
    return ddpm_cifar10_samples(args.model, args.num, Path(args.out) / "ddpm-cifar10", opts)


def _check_inception_weights(args: argparse.Namespace) -> None:
    from genbench.features import load_all, weights
    from genbench.features.base import EXTRACTORS

    load_all()
    name = EXTRACTORS.get("inception-v3-tf").weights_name
    weights.resolve(name, parse_weights(args.weights).get("inception-v3-tf"), args.allow_unverified_weights)
