"""The `genbench eval` parser (implementation: genbench.commands.eval)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, add_quiet, add_value_range, add_weights, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score generated samples against a reference set")
    p.add_argument("--samples", required=True, help="folder, .npz/.npy, or built-in dataset name")
    p.add_argument("--ref", default=None, help="reference: folder, .npz/.npy, dataset, or a statistics file from "
                                               "`genbench ref` (default: the protocol's)")
    p.add_argument("--protocol", default=None, help="named protocol, e.g. digits-default (see `genbench metrics`)")
    p.add_argument("--metrics", default=None,
                   help="comma list of metric families or output names (e.g. fid,kid,is,precision) or 'all'")
    p.add_argument("--extractor", default=None, help="feature extractor (default inception-v3-tf)")
    p.add_argument("--num-samples", type=positive_int, default=None, help="use the first N samples")
    p.add_argument("--num-ref", type=positive_int, default=None, help="use the first N reference images")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice in the metrics")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--bootstrap", type=int, default=None, help="bootstrap replicates B (0: no CIs)")
    p.add_argument("--cache-dir", default=None, help="feature cache (default $GENBENCH_HOME/cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--train", default=None, help="training set, for the copy-rate metric")
    p.add_argument("--heldout", default=None, help="held-out set, for C_T")
    p.add_argument("--prompts", default=None, help="text file, one prompt per sample (CLIP score)")
    p.add_argument("--prompt-template", default=None,
                   help='CLIP score prompts from the samples\' class labels, e.g. "a handwritten digit {label}"')
    add_value_range(p)
    p.add_argument("--json", default=None, help="write the result as JSON here")
    p.add_argument("--save-features", action="store_true",
                   help="with --json R.json: also write R.features.npz beside it, the feature rows the protocol's "
                        "gate rules read (float32; inputs derived from the images, such as stacked digits' channel "
                        "classes, as rows of their own; sha256 recorded in R.json), so `genbench gate --baseline "
                        "R.json` pairs from these two files alone")
    p.add_argument("--name", default=None, help="model name (for --add-to)")
    p.add_argument("--add-to", default=None,
                   help="append the result's rows to this leaderboard JSONL and rank it again: paired (Holm over all "
                        "pairs) where every model's features are found in the caches or in files saved with "
                        "--save-features, else marked 'overlap (unpaired)' (see `genbench board rank`)")
    add_quiet(p)
    add_device(p)
    add_weights(p)
    p.set_defaults(func=Run("eval"))
