"""`genbench` command line: thin subcommands over the library. Exit codes: 0 ok, 1 gate failed, 2 bad input."""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from genbench import __version__
from genbench.commands import COMMANDS
from genbench.errors import GenbenchError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"genbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"genbench.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"genbench.commands.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser



def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 2 for usage errors, 0 for --help
        return int(e.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from genbench.distributed import run_command  # torchrun: join the group, fail fast (no-op otherwise)

    return run_command(lambda: _dispatch(args), getattr(args, "device", "auto"))


def _dispatch(args: argparse.Namespace) -> int:
    from genbench.distributed import rank_label

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return int(args.func(args) or 0)
    except GenbenchError as e:
        print(f"genbench {args.command}: error: {rank_label()}{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("genbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
