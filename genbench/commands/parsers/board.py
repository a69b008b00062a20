"""The `genbench board` parser (implementation: genbench.commands.board)."""
from __future__ import annotations

import argparse

from genbench.commands.parsers import Run
from genbench.errors import ConfigError

SUFFIX = {"md": ".md", "csv": ".csv", "html": ".html", "latex": ".tex"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("board", help="show or render a leaderboard (leaderboards/<suite>.jsonl)")
    acts = p.add_subparsers(dest="board_command", metavar="ACTION")
    show = acts.add_parser("show", help="print the ranked wide table(s)")
    show.add_argument("path", metavar="PATH", help="leaderboard JSONL")
    show.add_argument("--all", action="store_true", dest="all_columns",
                      help="every column (default: rank, model, the primary metric and the gate's metrics, then "
                           "what fits the terminal's width)")
    show.set_defaults(func=Run("board"))
    rend = acts.add_parser("render", help="write the table as md/csv/latex, or an HTML report")
    rend.add_argument("path", metavar="PATH", help="leaderboard JSONL")
    rend.add_argument("--format", default="md", choices=list(SUFFIX),
                      help="md, csv, latex: the wide table; html: a self-contained report")
    rend.add_argument("--out", default=None,
                      help="output file (default: PATH with the format's suffix; '-' prints to stdout)")
    rend.set_defaults(func=Run("board"))
    p.set_defaults(func=_usage(p))


def _usage(p: argparse.ArgumentParser):
    def usage(args: argparse.Namespace) -> int:
        raise ConfigError(f"choose an action: show or render (see {p.prog} --help)")

    return usage
