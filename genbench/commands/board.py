"""`genbench board show|render PATH`: print or render a leaderboard JSONL (ranked, per protocol)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.commands.parsers.board import SUFFIX
from genbench.errors import InputError


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
