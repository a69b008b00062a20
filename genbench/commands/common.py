"""Argument helpers shared by subcommands."""
from __future__ import annotations

import argparse
from pathlib import Path

from genbench.errors import ConfigError, InputError


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")


def add_weights(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", action="append", default=[], metavar="NAME=PATH",
                   help="use this weights file for extractor NAME (repeatable)")
    p.add_argument("--allow-unverified-weights", action="store_true",
                   help="accept weights whose sha256 does not match; results are marked unverified")


def parse_weights(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--weights {item!r}: expected NAME=PATH")
        out[name] = path
    return out


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


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
