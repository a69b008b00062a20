"""Argument helpers shared by subcommands."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genbench.errors import ConfigError, InputError

if TYPE_CHECKING:
    from genbench.eval.options import EvalOptions


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")


VALUE_RANGES = ("0,1", "-1,1", "0,255")


def add_value_range(p: argparse.ArgumentParser) -> None:
    """--value-range, shown as three ranges (argparse's {0,1,-1,1,0,255} reads as six numbers)."""
    p.add_argument("--value-range", default=None, choices=VALUE_RANGES, metavar="LO,HI",
                   help="value range of float image arrays, one of: 0,1 | -1,1 | 0,255 (uint8 images need none)")


QUIET_HELP = "no progress on stderr (a bar on a terminal; elsewhere a line per stage and at least every 10 s)"


def add_feature_store(p: argparse.ArgumentParser) -> None:
    """--batch-size and --cache-dir of a command that extracts features."""
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--cache-dir", default=None, help="feature cache (default $GENBENCH_HOME/cache)")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)


def add_weights(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", action="append", default=[], metavar="NAME=PATH",
                   help="use this weights file for extractor NAME (repeatable)")
    p.add_argument("--allow-unverified-weights", action="store_true",
                   help="accept weights whose sha256 does not match; results are marked unverified")


def parse_weights(items: list[str] | None) -> dict[str, str]:
    """The one parser of repeated `--weights NAME=PATH` options: {extractor name: path}; names must be
    registered extractors."""
    from genbench.features import EXTRACTORS, load_all

    load_all()
    out = {}
    for item in items or ():
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--weights {item!r}: expected NAME=PATH, e.g. inception-v3-tf=/path/to/file.pth")
        EXTRACTORS.get(name)
        out[name] = path
    return out


def eval_options(args: argparse.Namespace, **fields: Any) -> EvalOptions:
    """The EvalOptions of a command with --device, --weights, --allow-unverified-weights and --batch-size;
    `fields` sets the others (seed, bootstrap, cache_dir, ...)."""
    from genbench.eval.options import EvalOptions

    return EvalOptions(device=args.device, weights=parse_weights(args.weights),
                       allow_unverified=args.allow_unverified_weights, batch_size=args.batch_size, **fields)


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


MAX_SAMPLES = 1_000_000  # 20x the largest published protocol (50k); a list of this many seeds is ~40 MB
MAX_SEED = 2 ** 32 - 1


def _seed_spec_counts(spec: str) -> tuple[int, int]:
    """(number of seeds, largest seed) of a --seeds spec, counted without expanding its ranges. Parts that
    do not parse count as nothing: genbench.seeding.parse_seeds reports them."""
    count, largest = 0, -1
    for part in str(spec).split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            continue
        count += max(b - a + 1, 0)
        largest = max(largest, a, b)
    return count, largest


def check_seed_args(num: int | None, seed: int | None, spec: str | None) -> tuple[int | None, int | None, str | None]:
    """Validate --num/--seed/--seeds sizes before any list is built (no MemoryError on '0-10**12');
    returns the arguments unchanged for genbench.seeding / the command's own resolution."""
    if num is not None and num > MAX_SAMPLES:
        raise ConfigError(f"--num {num}: at most {MAX_SAMPLES:,} samples per call")
    if seed is not None and not 0 <= seed <= MAX_SEED - (num or 1) + 1:
        raise ConfigError(f"--seed {seed}: seeds must lie in 0..{MAX_SEED} (with --num {num or 1})")
    if spec is not None:
        if len(spec) > 100_000:
            raise ConfigError(f"--seeds: the spec is {len(spec):,} characters long; use ranges like 0-999")
        count, largest = _seed_spec_counts(spec)
        if count > MAX_SAMPLES:
            raise ConfigError(f"--seeds {spec[:40]!r}: {count:,} seeds; at most {MAX_SAMPLES:,} per call")
        if largest > MAX_SEED:
            raise ConfigError(f"--seeds {spec[:40]!r}: seed {largest} is above the largest seed {MAX_SEED}")
    return num, seed, spec


def read_prompts(path: str | None) -> list[str] | None:
    if path is None:
        return None
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"--prompts {p}: cannot read ({e.strerror})") from None
    if not lines:
        raise InputError(f"--prompts {p}: empty file; expected one prompt per line")
    return lines


def check_output_file(path: Path, what: str) -> None:
    """Before any work: an output file path that genbench may write (not a folder, not a symbolic link, in an
    existing writable folder; an existing file readable and writable). ConfigError/InputError naming `what`."""
    import os

    from genbench.io import check_file_target

    check_file_target(path, what)  # a link is refused: genbench never writes through one
    if not path.parent.is_dir():
        raise ConfigError(f"{what} {path}: folder {path.parent} does not exist")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ConfigError(f"{what} {path}: not readable and writable")
    if not path.exists() and not os.access(path.parent, os.W_OK):
        raise ConfigError(f"{what} {path}: folder {path.parent} is not writable")


# What torchrun ranks do not compare as typed: options that change no number (where to cache, print or
# write), and inputs named by path, which the library compares by content (fingerprints, checkpoint and
# pipeline hashes) once it opens them: one dataset may be mounted at different paths on different nodes.
NOT_COMPARED = frozenset({
    "func", "cache_dir", "no_cache", "quiet", "no_progress", "no_report", "json", "out", "board_dir", "add_to",
    "overwrite", "name", "samples", "ref", "train", "heldout", "prompts", "weights", "source", "file", "run_dir",
    "diffusers", "candidate", "baseline", "board", "src", "path"})


def command_facts(args: argparse.Namespace) -> dict:
    """What every torchrun rank must state alike before a command runs: the command and each option that
    can change a number, by name and value (genbench.distributed.agree compares them in full)."""
    options = {k: v for k, v in sorted(vars(args).items()) if k not in NOT_COMPARED and not callable(v)}
    return {"command": getattr(args, "command", None), "options": options}
