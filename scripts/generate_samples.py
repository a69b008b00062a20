"""Draw fixed-seed candidate samples for `genbench gate` / `genbench eval` (the README's CI example).

    python scripts/generate_samples.py --callable my_model.sample:draw --seeds 0-999 --out candidate.npz
    python scripts/generate_samples.py --model runs/my-ddpm --seeds 0-999 --out candidate.npz

--callable MODULE:FUNCTION names your model: FUNCTION(seeds: list[int]) returns the images of those seeds
as a numpy array or torch tensor, uint8 [B, 3, H, W] (or [B, H, W, 3], or grayscale [B, H, W]), or float
with --value-range 0,1 | -1,1; it may return (images, labels). Image k must depend only on seed k. The
module is imported from the current directory (your repository) or PYTHONPATH.
--model DIR samples a reference model trained by `genbench train` (same as `genbench generate`).

Writes an ADM-layout .npz (arr_0 = uint8 [N, H, W, 3]) or a PNG folder, with a manifest of the seeds.
Exit codes follow genbench: 0 ok, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Callable


def load_callable(spec: str) -> Callable:
    from genbench.errors import ConfigError

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"--callable {spec!r}: expected MODULE:FUNCTION, e.g. my_model.sample:draw")
    sys.path.insert(0, str(Path.cwd()))
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"--callable {spec!r}: cannot import ({e})") from None
    if not callable(fn):
        raise ConfigError(f"--callable {spec!r}: {attr} is not callable")
    return fn


def draw(args: argparse.Namespace) -> int:
    from genbench.commands.common import check_seed_args
    from genbench.sets.export import check_target, export
    from genbench.sets.samples import SampleSet
    from genbench.seeding import parse_seeds

    check_target(args.out, args.overwrite)
    check_seed_args(None, None, args.seeds)
    seeds = parse_seeds(args.seeds)
    fn = load_callable(args.callable)
    samples = SampleSet.from_generator(fn, seeds, batch_size=args.batch_size, value_range=args.value_range,
                                       source=f"callable:{args.callable}")
    export(samples, args.out, overwrite=args.overwrite)
    print(f"wrote {len(samples)} samples of {args.callable} to {args.out} (fingerprint {samples.fingerprint[:16]})")
    return 0


def main(argv: list[str] | None = None) -> int:
    from genbench.cli import Parser, main as genbench_main
    from genbench.errors import GenbenchError

    p = Parser(prog="generate_samples.py", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--callable", help="MODULE:FUNCTION returning the images of a list of seeds")
    src.add_argument("--model", help="a reference-model run folder written by `genbench train`")
    p.add_argument("--seeds", required=True, help="e.g. 0-999 or 0,5,10-19")
    p.add_argument("--out", required=True, help="output .npz file or PNG folder")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--value-range", default=None, choices=["0,1", "-1,1", "0,255"], help="for float images")
    p.add_argument("--overwrite", action="store_true", help="replace an output folder that genbench wrote")
    args = p.parse_args(argv)
    if args.model:
        return genbench_main(["generate", args.model, "--seeds", args.seeds, "--out", args.out,
                              "--batch-size", str(args.batch_size), "--no-progress"])
    try:
        return draw(args)
    except GenbenchError as e:
        print(f"generate_samples.py: error: {' '.join(str(e).split())}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
