"""`genbench board show|render|rank PATH`: print, render or (re)rank a leaderboard JSONL (ranked, per protocol)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.commands.parsers.board import SUFFIX
from genbench.errors import ConfigError, InputError


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


MIN_BOOTSTRAP = 20  # a pair's p-value comes from the bootstrap's sd: fewer replicates cannot estimate it


def rank(args: argparse.Namespace) -> int:
    """`genbench board rank PATH`: the paired, Holm-controlled ranks of every group whose features are found,
    written to PATH's .ranks.json under the board's lock; prints how each group is ranked."""
    from genbench.board.rank_file import RankOptions, describe, write_ranks
    from genbench.board.rank_sources import default_cache_dirs

    if args.bootstrap < MIN_BOOTSTRAP:
        raise ConfigError(f"--bootstrap must be at least {MIN_BOOTSTRAP} (a pair's p-value needs the bootstrap's "
                          f"sd), got {args.bootstrap}")
    for flag, dirs in (("--cache-dir", args.cache_dir), ("--features-dir", args.features_dir)):
        for d in dirs:
            if not Path(d).is_dir():
                raise InputError(f"{flag} {d}: no such folder")
    _load(args.path)
    opts = RankOptions(default_cache_dirs(args.cache_dir), args.features_dir, args.bootstrap, args.device, args.force)
    entries = write_ranks(args.path, opts=opts)
    for line in describe(entries):
        print(line)
    from genbench.board.ranks import ranks_path

    print(f"wrote {ranks_path(args.path)}")
    return 0

