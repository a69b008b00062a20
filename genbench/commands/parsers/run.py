"""The `genbench run` parser (implementation: genbench.commands.run)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, add_quiet, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="train, sample, evaluate and rank a built-in suite")
    p.add_argument("--suite", default="digits", help="digits, stacked-digits, toy2d or all")
    p.add_argument("--preset", default="quick", choices=["tiny", "quick", "full"],
                   help="tiny: seconds (tests); quick: minutes on a CPU; full: for a GPU")
    p.add_argument("--out", default="runs", help="work folder: checkpoints, samples, features, results")
    p.add_argument("--board-dir", default="runs/boards",
                   help="where <suite>.jsonl/.md/.csv/.ranks.json are written (`make boards` writes the committed "
                        "ones: --board-dir leaderboards)")
    p.add_argument("--compare", default="leaderboards", metavar="DIR",
                   help="compare the board with DIR's board of the same name, byte for byte, and print the cells "
                        "that differ and why (default: the committed leaderboards; 'none' to skip)")
    p.add_argument("--num-samples", type=positive_int, default=None,
                   help="override the suite's sample count (recorded; never ranked with other counts)")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_quiet(p)
    add_device(p)
    p.set_defaults(func=Run("run"))
