"""`genbench train FAMILY --dataset NAME --out DIR`: train a reference model (resumes from DIR's checkpoint)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, positive_int

FAMILY_NAMES = ("vae", "gan", "gan2d", "ddpm", "ddpm2d", "ldm")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a reference model (vae, gan, gan2d, ddpm, ddpm2d, ldm)",
                       description="Train a reference model into DIR: model.safetensors, config.json, "
                                   "train_log.csv, loss.png and resumable checkpoints in DIR/ckpt. Rerunning "
                                   "on the same DIR resumes from the last checkpoint.")
    p.add_argument("family", help=f"model family: {', '.join(FAMILY_NAMES)}")
    p.add_argument("--dataset", required=True,
                   help="built-in dataset: digits, digits-train, stacked-digits, toy2d-ring8, toy2d-grid25")
    p.add_argument("--preset", default="quick", help="quick (CPU minutes), full (GPU); gan2d also paper, pacgan2")
    p.add_argument("--steps", type=positive_int, default=None, help="override the preset's training steps")
    p.add_argument("--seed", type=int, default=0, help="training seed (weights init and data order)")
    p.add_argument("--pack", type=positive_int, default=None, help="gan2d: PacGAN packing degree m (1 = plain GAN)")
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
    from genbench.errors import ConfigError
    from reference_models.train import train

    overrides = {}
    if args.pack is not None:
        if args.family != "gan2d":
            raise ConfigError(f"--pack: only the gan2d family packs samples (got {args.family})")
        overrides["pack"] = args.pack
    if args.image_size is not None:
        if args.family in ("gan2d", "ddpm2d"):
            raise ConfigError(f"--image-size: {args.family} trains on 2-D points")
        overrides["image_size"] = args.image_size
    if args.conditional:
        if args.family in ("gan2d", "ddpm2d"):
            raise ConfigError(f"--conditional: {args.family} has no class-conditional variant")
        overrides["conditional"] = True
    model = train(args.family, args.dataset, args.preset, out=args.out, seed=args.seed, steps=args.steps,
                  device=args.device, progress=not args.no_progress, **overrides)
    rec = model.record
    print(f"trained {rec['family']} ({rec['preset']}) on {rec['data']['dataset']}: {args.out}/model.safetensors "
          f"(sha256 {model.checkpoint_hash[:16]}, {rec.get('train_seconds', 0):.1f} s)")
    return 0
