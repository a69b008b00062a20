"""`genbench train FAMILY --dataset NAME --out DIR`: train a reference model (resumes from DIR's checkpoint)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, positive_int
from genbench.data import DATASETS


def _families() -> dict:
    """The registered reference-model families (reference_models/families/, one file each)."""
    from reference_models.family import load_families

    return dict(load_families().items())


def _presets_help(families: dict) -> str:
    extra = {n: sorted(set(f.presets) - {"tiny", "quick", "full"}) for n, f in families.items()}
    also = "; ".join(f"{n} also {', '.join(e)}" for n, e in extra.items() if e)
    return "tiny (a smoke test), quick (CPU minutes), full (GPU)" + (f"; {also}" if also else "")


def register(sub: argparse._SubParsersAction) -> None:
    families = _families()
    names = ", ".join(families)
    p = sub.add_parser("train", help=f"train a reference model ({names})",
                       description="Train a reference model into DIR: model.safetensors, config.json, "
                                   "train_log.csv, loss.png and resumable checkpoints in DIR/ckpt. Rerunning "
                                   "on the same DIR resumes from the last checkpoint.")
    p.add_argument("family", help=f"model family: {names}")
    p.add_argument("--dataset", required=True,
                   help=f"built-in dataset: {', '.join(DATASETS.names())}")
    p.add_argument("--preset", default="quick", help=_presets_help(families))
    p.add_argument("--steps", type=positive_int, default=None, help="override the preset's training steps")
    p.add_argument("--seed", type=int, default=0, help="training seed (weights init and data order)")
    packing = ", ".join(n for n, f in families.items() if f.option("pack"))
    p.add_argument("--pack", type=positive_int, default=None, help=f"{packing}: PacGAN packing degree m (1 = plain GAN)")
    p.add_argument("--image-size", type=int, default=None, choices=(8, 16, 32),
                   help="image families: train at this size (8x8 digits are upsampled)")
    p.add_argument("--conditional", action="store_true",
                   help="image families: class-conditional model (ddpm/ldm: classifier-free guidance; gan: "
                        "projection discriminator; vae: CVAE); sample a class with `generate --class K`")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_device(p)
    p.set_defaults(func=run)


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
