"""`genbench run`: run a built-in suite end to end and write its leaderboard and report."""
from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from genbench.bench.run_suite import RunOptions, run_suite
    from genbench.bench.suites import SUITES

    names = SUITES.names() if args.suite == "all" else [args.suite]
    for name in names:
        SUITES.get(name)
    for name in names:
        opts = RunOptions(preset=args.preset, device=args.device, out=Path(args.out),
                          board_dir=Path(args.board_dir), num_samples=args.num_samples,
                          batch_size=args.batch_size, seed=args.seed, progress=not args.quiet,
                          report=not args.no_report)
        outcome = run_suite(name, opts)
        print(f"\nleaderboard: {outcome.board_path.with_suffix('.md')}")
        if outcome.report_path:
            print(f"report: {outcome.report_path}")
        print("stage times: " + ", ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items()))
        print()
        print(outcome.board_path.with_suffix(".md").read_text())
        _compare(outcome.board_path, args.compare)
    return 0


def _compare(board: Path, where: str) -> None:
    """Say whether the new board reproduces the committed one (issue #29: `make run` leaves the tree clean)."""
    from genbench.bench.board_diff import compare_boards

    committed = Path(where) / board.name
    if where == "none" or not committed.exists() or committed.resolve() == board.resolve():
        return
    cmp = compare_boards(board, committed)
    if cmp.identical:
        print(f"{board.with_suffix('.md')} reproduces {cmp.theirs} byte for byte (and its .csv, .ranks.json, .jsonl)")
        return
    print(f"{board.with_suffix('.md')} differs from {cmp.theirs} ({', '.join(cmp.differing_files)} differ):")
    for why in cmp.reasons:
        print(f"  why: {why}")
    _cell_table(cmp.cells)


def _cell_table(cells, limit: int = 20) -> None:
    if not cells:
        print("  the tables agree cell for cell (the difference is outside them)")
        return
    print(f"  {'model':<24} {'column':<22} {'this run':>18} {'committed':>18}")
    for c in cells[:limit]:
        print(f"  {c.model[:24]:<24} {c.column[:22]:<22} {c.ours[:18]:>18} {c.theirs[:18]:>18}")
    if len(cells) > limit:
        print(f"  ... and {len(cells) - limit} more cells")
