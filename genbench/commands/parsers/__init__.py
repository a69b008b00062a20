"""The `genbench` command parsers, declared: one module per command, each `register(subparsers)`.

A parser module holds its command's arguments, help texts and defaults and nothing else, so building every
parser (`genbench --help`, `genbench gate --help`) loads neither torch, scipy nor any command's
implementation (tests/unit/test_cli_startup.py checks it in a fresh interpreter). Names that registries
hold (model families, the gate's default) are declared here as constants, each tested equal to its
registry. The `func` a parser sets is `Run(name)`: it imports `genbench.commands.<name>` when the command
runs, so an entry refused while the implementation imports is reported by that command, in one line.
May import: the standard library, genbench.errors, genbench.version and genbench.commands.common (which
imports the rest of the library only inside its functions); not even numpy.
"""
from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    """A declared command's `func`: imports `genbench.commands.<module>` on call and runs its `attr`."""

    module: str
    attr: str = "run"

    def __call__(self, args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"genbench.commands.{self.module}"), self.attr)(args)
