"""The `genbench board` parser (implementation: genbench.commands.board)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, positive_int
from genbench.commands.parsers import Run
from genbench.errors import ConfigError

SUFFIX = {"md": ".md", "csv": ".csv", "html": ".html", "latex": ".tex"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("board", help="show, render or rank a leaderboard (leaderboards/<suite>.jsonl)")
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
    _register_rank(acts)
    p.set_defaults(func=_usage(p))


def _register_rank(acts: argparse._SubParsersAction) -> None:
    rank = acts.add_parser("rank", help="recompute the paired, Holm-controlled ranks into PATH's .ranks.json")
    rank.add_argument("path", metavar="PATH", help="leaderboard JSONL")
    rank.add_argument("--cache-dir", action="append", default=[], metavar="DIR",
                      help="feature cache to read (repeatable, in order; default: $GENBENCH_HOME/cache, then "
                           "runs/cache when it exists)")
    rank.add_argument("--features-dir", action="append", default=[], metavar="DIR",
                      help="folder holding features files saved with `genbench eval --save-features` (repeatable; "
                           "the board's folder and the paths `--add-to` recorded are always searched)")
    rank.add_argument("--bootstrap", type=positive_int, default=200, help="paired bootstrap replicates B per pair")
    rank.add_argument("--force", action="store_true", help="recompute groups whose paired ranks are current too")
    add_device(rank)
    rank.set_defaults(func=Run("board", "rank"))


def _usage(p: argparse.ArgumentParser):
    def usage(args: argparse.Namespace) -> int:
        raise ConfigError(f"choose an action: show, render or rank (see {p.prog} --help)")

    return usage
