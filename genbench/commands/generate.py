"""`genbench generate DIR --num N --out PATH.npz|DIR`: sample a trained reference model from fixed seeds.

`genbench generate --diffusers PIPELINE_DIR --seeds 0-49999 --steps 100 --out x.npz` samples a local
diffusers pipeline instead (DDPM, DDIM, unconditional LDM; genbench.sets.diffusers). Under torchrun
each rank samples its block of seeds and rank 0 writes the gathered set (same bytes for any K).

Image k depends only on seed k, so the same seeds give the same bytes whatever --batch-size. Writes an
ADM-layout .npz (uint8 NHWC arr_0, labels arr_1) or a PNG folder named by seed, plus a manifest with the
checkpoint hash, seeds, sampler settings and class labels (genbench.sets.export). 2-D models write float64
points [N, 2] as arr_0 of an .npz.
"""
from __future__ import annotations

import argparse

from genbench.commands.common import check_seed_args


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
    from genbench.distributed import generate_sharded
    from genbench.sets.samples import SampleSet
    from reference_models.api import load

    from genbench.sets.export import check_target

    inputs = tuple(p for p in (args.run_dir, args.diffusers) if p is not None)
    out = check_target(args.out, args.overwrite, inputs)  # before any sampling: never waste the work on a bad --out
    if (args.run_dir is None) == (args.diffusers is None):
        raise ConfigError("give either a run folder DIR or --diffusers PIPELINE_DIR")
    seeds = resolve_seeds(*check_seed_args(args.num, args.seed, args.seeds))
    if args.diffusers is not None:
        return _diffusers(args, seeds, out)
    model = load(args.run_dir, device=args.device)
    opts = dict(sampler=args.sampler, steps=args.steps, eta=args.eta, guidance=args.guidance,
                class_label=args.class_label)
    settings = model.sampler_settings(**opts)  # validates before any sampling
    if model.kind == "points" and out.suffix.lower() != ".npz":
        raise ConfigError(f"--out {out}: 2-D point samples can only be written to a .npz file")
    facts = {"model": {"family": model.family, "checkpoint_sha256": model.checkpoint_hash,
                       "config_hash": model.record["config_hash"]}, "sampler": settings,
             "batch_size": args.batch_size, "device": torch_device_type(model.device)}  # not paths, not GPU numbers
    x, labels = generate_sharded(seeds, lambda part: _sample(model, part, args, opts), model.config.micro_batch,
                                 labelled=model.conditional, facts=facts)
    samples = SampleSet.from_array(x, layout="NCHW" if model.kind == "images" else "auto",
                                   source=f"model:{args.run_dir}", labels=labels,
                                   manifest={"seeds": seeds, "model": str(args.run_dir), "family": model.family,
                                             "checkpoint_sha256": model.checkpoint_hash,
                                             "config_hash": model.record["config_hash"],
                                             "sampler": settings, "batch_size": args.batch_size,
                                             "device": str(model.device)})
    return _write(samples, out, model.kind, args.overwrite)


def torch_device_type(device: object) -> str:
    """"cuda" for cuda:3: ranks on one node use different GPUs of one kind."""
    return str(getattr(device, "type", device)).split(":")[0]


def _sample(model, seeds: list[int], args: argparse.Namespace, opts: dict):
    x, labels = model.sample_labelled(seeds, args.batch_size, progress=not args.no_progress, **opts)
    return x.numpy(), labels


def _diffusers(args: argparse.Namespace, seeds: list[int], out) -> int:
    from genbench.errors import ConfigError
    from genbench.sets.diffusers import DiffusersOptions
    from genbench.sets.samples import SampleSet

    ignored = [f for f in ("sampler", "guidance", "class_label") if getattr(args, f) is not None]
    if ignored:
        raise ConfigError(f"--diffusers: --{ignored[0].replace('_label', '')} applies to reference models only")
    opts = DiffusersOptions(steps=args.steps, eta=args.eta, batch_size=args.batch_size, device=args.device,
                            progress=not args.no_progress)
    return _write(SampleSet.from_diffusers(args.diffusers, seeds, opts), out, "images", args.overwrite)


def _write(samples, out, kind: str, overwrite: bool = False) -> int:
    """Rank 0 writes (genbench.io writes nothing on other ranks); every rank returns 0."""
    from genbench.sets.export import export

    export(samples, out, overwrite=overwrite)  # --out was also checked before any sampling
    print(f"wrote {len(samples)} {kind} to {out} (fingerprint {samples.fingerprint[:16]})")
    return 0
