"""The `genbench gate` parser (implementation: genbench.commands.gate)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, add_feature_store, add_quiet, add_weights, positive_int
from genbench.commands.parsers import Run

INCONCLUSIVE_FAILS = True  # genbench.compare.gate.INCONCLUSIVE_FAILS, declared here (a test checks they agree)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="compare a candidate with a baseline using paired bootstrap intervals")
    p.add_argument("--candidate", required=True,
                   help="candidate samples (folder, .npz/.npy, dataset name) or an EvalResult JSON")
    p.add_argument("--baseline", required=True,
                   help="a RESULT.json, baseline SAMPLES (folder, .npz/.npy, dataset name), or a model NAME "
                        "on the --board leaderboard")
    p.add_argument("--board", default="leaderboards/digits.jsonl", help="leaderboard JSONL for a baseline NAME")
    p.add_argument("--ref", default=None, help="reference set (default: the baseline's when it is a built-in "
                   "dataset, first N images included; else the protocol's)")
    p.add_argument("--protocol", default=None, help="protocol (default: the baseline's)")
    p.add_argument("--rule", action="append", default=[], metavar="RULE",
                   help='e.g. "fd<=+2.0" or "recall>=-0.02" (repeatable; default: the protocol\'s rules)')
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--strict", dest="strict", action="store_true", default=INCONCLUSIVE_FAILS,
                        help="an inconclusive gate fails, exit 1" + (" (the default)" if INCONCLUSIVE_FAILS else ""))
    strict.add_argument("--lenient", dest="strict", action="store_false",
                        help="an inconclusive gate passes with a warning, exit 0"
                             + ("" if INCONCLUSIVE_FAILS else " (the default)"))
    p.add_argument("--allow-n-mismatch", action="store_true",
                   help="compare results scored at another N than the protocol fixes (warns instead of exit 2)")
    p.add_argument("--bootstrap", type=positive_int, default=200,
                   help="replicates of the paired bootstrap of the difference (default 200)")
    p.add_argument("--independent", action="store_true",
                   help="skip the paired comparison: combine the results' own intervals as independent")
    p.add_argument("--trust-baseline-values", action="store_true",
                   help="accept a baseline whose values nothing can recompute (a result JSON without its features "
                        "file, or a leaderboard row, whose rows cannot be found): its value, std, CI, N and seed "
                        "are then taken on the file's word, and the report lists them")
    p.add_argument("--json", default=None, help="write the gate report as JSON here")
    p.add_argument("--seed", type=int, default=None,
                   help="metric and bootstrap seed (default: the protocol's; never a result file's)")
    p.add_argument("--num-samples", type=positive_int, default=None,
                   help="default: the protocol's N (the baseline's without a protocol N)")
    add_feature_store(p)
    p.add_argument("--name", default="candidate", help="candidate name in the report")
    add_quiet(p)
    add_device(p)
    add_weights(p)
    p.set_defaults(func=Run("gate"))
