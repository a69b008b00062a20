"""`genbench board show|render PATH`: print or render a leaderboard JSONL (ranked, per protocol)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.errors import ConfigError, InputError

SUFFIX = {"md": ".md", "csv": ".csv", "html": ".html", "latex": ".tex"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("board", help="show or render a leaderboard (leaderboards/<suite>.jsonl)")
    acts = p.add_subparsers(dest="board_command", metavar="ACTION")
    show = acts.add_parser("show", help="print the ranked wide table(s)")
    show.add_argument("path", metavar="PATH", help="leaderboard JSONL")
    show.add_argument("--all", action="store_true", dest="all_columns",
                      help="every column (default: rank, model, the primary metric and the gate's metrics, then "
                           "what fits the terminal's width)")
    show.set_defaults(func=run)
    rend = acts.add_parser("render", help="write the table as md/csv/latex, or an HTML report")
    rend.add_argument("path", metavar="PATH", help="leaderboard JSONL")
    rend.add_argument("--format", default="md", choices=list(SUFFIX),
                      help="md, csv, latex: the wide table; html: a self-contained report")
    rend.add_argument("--out", default=None,
                      help="output file (default: PATH with the format's suffix; '-' prints to stdout)")
    rend.set_defaults(func=run)
    p.set_defaults(func=_usage(p))


def _usage(p: argparse.ArgumentParser):
    def usage(args: argparse.Namespace) -> int:
        raise ConfigError(f"choose an action: show or render (see {p.prog} --help)")

    return usage


def _load(path: str):
    from genbench.board.leaderboard import Leaderboard

    if not Path(path).is_file():
        raise InputError(f"{path}: no such leaderboard file")
    board = Leaderboard.load(path)
    if not board.groups():
        raise InputError(f"{path}: the leaderboard has no rows")
    return board


def _text(board, fmt: str) -> str:
    if fmt == "html":
        from genbench.board.report import report_html

        return report_html(board)
    from genbench.board.render import render

    return render(board, fmt)


def run(args: argparse.Namespace) -> int:
    board = _load(args.path)
    if args.board_command == "show":
        from genbench.board.render import render_text

        import shutil

        print(render_text(board, width=shutil.get_terminal_size().columns, all_columns=args.all_columns), end="")
        return 0
    text = _text(board, args.format)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    from genbench.io import atomic_write_text, lock_for

    out = Path(args.out) if args.out else Path(args.path).with_suffix(SUFFIX[args.format])
    with lock_for(out):
        atomic_write_text(out, text)
    print(f"wrote {out}")
    return 0
