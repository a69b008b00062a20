"""`genbench train FAMILY --dataset NAME --out DIR`: train a reference model (resumes from DIR's checkpoint)."""
from __future__ import annotations

import argparse


def _families() -> dict:
    """The registered reference-model families (reference_models/families/, one file each)."""
    from reference_models.family import load_families

    return dict(load_families().items())


def run(args: argparse.Namespace) -> int:
    from reference_models.family import get_family
    from reference_models.train import train

    family = get_family(args.family)
    overrides = {}
    if args.pack is not None:
        _require(family, "pack", "--pack", "packs no samples (PacGAN packing)")
        overrides["pack"] = args.pack
    if args.image_size is not None:
        _require(family, "image_size", "--image-size", "does not train on images")
        overrides["image_size"] = args.image_size
    if args.conditional:
        _require(family, "conditional", "--conditional", "has no class-conditional variant")
        overrides["conditional"] = True
    model = train(args.family, args.dataset, args.preset, out=args.out, seed=args.seed, steps=args.steps,
                  device=args.device, progress=not args.no_progress, **overrides)
    from genbench.numerics import reproducibility_record

    rec = model.record
    print(f"trained {rec['family']} ({rec['preset']}) on {rec['data']['dataset']}: {args.out}/model.safetensors "
          f"(sha256 {model.checkpoint_hash[:16]}, {rec.get('train_seconds', 0):.1f} s, "
          f"{reproducibility_record()['class']})")
    return 0


def _require(family, field: str, flag: str, why: str) -> None:
    from genbench.errors import ConfigError

    if not family.option(field):
        able = ", ".join(n for n, f in _families().items() if f.option(field))
        raise ConfigError(f"{flag}: the {family.name} family {why} (families that take it: {able})")
