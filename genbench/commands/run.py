"""`genbench run`: run a built-in suite end to end and write its leaderboard and report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.commands.common import add_device, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="train, sample, evaluate and rank a built-in suite")
    p.add_argument("--suite", default="digits", help="digits, stacked-digits, toy2d or all")
    p.add_argument("--preset", default="quick", choices=["tiny", "quick", "full"],
                   help="tiny: seconds (tests); quick: minutes on a CPU; full: for a GPU")
    p.add_argument("--out", default="runs", help="work folder: checkpoints, samples, features, results")
    p.add_argument("--board-dir", default="leaderboards", help="where <suite>.jsonl/.md/.csv are written")
    p.add_argument("--num-samples", type=positive_int, default=None,
                   help="override the suite's sample count (recorded; never ranked with other counts)")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_device(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genbench.bench.run_suite import RunOptions, run_suite
    from genbench.bench.suites import SUITES

    names = SUITES.names() if args.suite == "all" else [args.suite]
    for name in names:
        SUITES.get(name)
    for name in names:
        opts = RunOptions(preset=args.preset, device=args.device, out=Path(args.out),
                          board_dir=Path(args.board_dir), num_samples=args.num_samples,
                          batch_size=args.batch_size, seed=args.seed, progress=sys.stderr.isatty(),
                          report=not args.no_report)
        outcome = run_suite(name, opts)
        print(f"\nleaderboard: {outcome.board_path.with_suffix('.md')}")
        if outcome.report_path:
            print(f"report: {outcome.report_path}")
        print("stage times: " + ", ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items()))
        print()
        print(outcome.board_path.with_suffix(".md").read_text())
    return 0
