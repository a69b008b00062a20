"""`genbench generate DIR --num N --out PATH.npz|DIR`: sample a trained reference model from fixed seeds.

Image k depends only on seed k, so the same seeds give the same bytes whatever --batch-size. Writes an
ADM-layout .npz (uint8 NHWC arr_0, labels arr_1) or a PNG folder named by seed, plus a manifest with the
checkpoint hash, seeds, sampler settings and class labels (genbench.export). 2-D models write float64
points [N, 2] as arr_0 of an .npz.
"""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="sample a trained reference model from fixed seeds")
    p.add_argument("run_dir", metavar="DIR", help="run folder written by `genbench train`")
    p.add_argument("--num", type=positive_int, default=None, help="number of samples (seeds S..S+N-1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seed", type=int, default=None, help="first seed (default 0)")
    g.add_argument("--seeds", default=None, help="explicit seeds, e.g. 0-999 or 0,5,10-19")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--sampler", choices=("ddpm", "ddim"), default=None, help="diffusion models: sampler")
    p.add_argument("--steps", type=positive_int, default=None, help="diffusion models: sampling steps K")
    p.add_argument("--eta", type=float, default=None, help="DDIM eta (0 = deterministic)")
    p.add_argument("--guidance", type=float, default=None,
                   help="conditional ddpm/ldm: classifier-free guidance scale")
    p.add_argument("--class", dest="class_label", type=int, default=None,
                   help="class-conditional models (any image family): generate this class only")
    p.add_argument("--out", required=True, help="output .npz file or PNG folder")
    p.add_argument("--no-progress", action="store_true")
    add_device(p)
    p.set_defaults(func=run)


def resolve_seeds(num: int | None, seed: int | None, spec: str | None) -> list[int]:
    from genbench.errors import ConfigError
    from genbench.seeding import parse_seeds

    if spec is not None:
        seeds = parse_seeds(spec)
        if num is not None and num != len(seeds):
            raise ConfigError(f"--num {num} disagrees with --seeds {spec!r} ({len(seeds)} seeds)")
        return seeds
    if num is None:
        raise ConfigError("give --num N (with optional --seed S) or --seeds SPEC")
    start = 0 if seed is None else seed
    if start < 0:
        raise ConfigError(f"--seed: must be >= 0, got {start}")
    return list(range(start, start + num))


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genbench.errors import ConfigError
    from genbench.export import export
    from genbench.samples import SampleSet
    from reference_models.api import load

    out = Path(args.out)
    if out.suffix and out.suffix.lower() != ".npz":
        raise ConfigError(f"--out {out}: use a folder path or a .npz file")
    seeds = resolve_seeds(args.num, args.seed, args.seeds)
    model = load(args.run_dir, device=args.device)
    opts = dict(sampler=args.sampler, steps=args.steps, eta=args.eta, guidance=args.guidance,
                class_label=args.class_label)
    settings = model.sampler_settings(**opts)  # validates before any sampling
    if model.kind == "points" and out.suffix.lower() != ".npz":
        raise ConfigError(f"--out {out}: 2-D point samples can only be written to a .npz file")
    x, labels = model.sample_labelled(seeds, args.batch_size, progress=not args.no_progress, **opts)
    samples = SampleSet.from_array(x.numpy(), layout="NCHW" if model.kind == "images" else "auto",
                                   source=f"model:{args.run_dir}", labels=labels,
                                   manifest={"seeds": seeds, "model": str(args.run_dir), "family": model.family,
                                             "checkpoint_sha256": model.checkpoint_hash,
                                             "config_hash": model.record["config_hash"],
                                             "sampler": settings, "batch_size": args.batch_size,
                                             "device": str(model.device)})
    export(samples, out)
    print(f"wrote {len(seeds)} {model.kind} to {out} (fingerprint {samples.fingerprint[:16]})")
    return 0
