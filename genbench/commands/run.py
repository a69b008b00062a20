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
    return 0
