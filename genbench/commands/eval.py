"""`genbench eval`: score a sample set against a reference; print a table, optionally write JSON."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from genbench.commands.common import check_output_file, eval_options, parse_weights, read_prompts
from genbench.errors import ConfigError

if TYPE_CHECKING:
    from genbench.eval.options import EvalOptions


def run(args: argparse.Namespace) -> int:
    from genbench.eval.run import evaluate

    if args.add_to and not args.name:
        raise ConfigError("--add-to needs --name MODEL")
    if args.bootstrap is not None and args.bootstrap < 0:
        raise ConfigError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    if args.name is not None:
        from genbench.board.leaderboard import validate_model_name

        validate_model_name(args.name, "--name")
    _check_outputs(args)  # before any work: a bad --json or --add-to must not cost an evaluation
    if args.save_features:
        _check_save_features(args)
    result = evaluate(args.samples, args.ref, protocol=args.protocol, metrics=args.metrics, train=args.train,
                      heldout=args.heldout, prompts=read_prompts(args.prompts), name=args.name, options=_options(args))
    from genbench.compare.gate import sample_count_warning

    if (warning := sample_count_warning(result)) is not None:
        print(f"genbench eval: warning: {warning}", file=sys.stderr)
    print(result.table())
    _write(args, result)
    return 0


def _write(args: argparse.Namespace, result) -> None:
    """R.features.npz, R.json, then the board row; a refusal or failure on the way removes the files this
    command created (genbench.io.removed_on_failure), and a result the board refuses is refused first. The
    board is ranked again after the row is in (a ranking problem never removes the written files)."""
    from genbench.compare.features_file import features_path
    from genbench.io import removed_on_failure

    if args.add_to:
        from genbench.board.leaderboard import _check_addable

        _check_addable(result, args.name, args.add_to)  # before any file is written
    files = [args.json, *([features_path(args.json)] if args.save_features else [])] if args.json else []
    with removed_on_failure(*files):
        if args.json:
            if args.save_features:
                _save_features(args, result)
            result.save(args.json)
            print(f"wrote {args.json}")
        if args.add_to:
            from genbench.board.leaderboard import Leaderboard

            Leaderboard.load(Path(args.add_to)).add_result(_located(args, result), args.name)
            print(f"added {args.name} to {args.add_to}")
    if args.add_to:
        _rank_board(args)


def _rank_board(args: argparse.Namespace) -> None:
    """Rank the board again (paired where every model's features are found)."""
    from genbench.board.rank_file import RankOptions, describe, write_ranks
    from genbench.board.rank_sources import default_cache_dirs

    from genbench import distributed

    if distributed.launched():  # finding features may extract, which is collective: one process ranks later
        print(f"ranks: not recomputed under torchrun; run `genbench board rank {args.add_to}`")
        return
    caches = [] if args.no_cache else default_cache_dirs([args.cache_dir] if args.cache_dir else None)
    dirs = [str(Path(args.json).parent)] if args.json else []
    for line in describe(write_ranks(args.add_to, opts=RankOptions(caches, dirs, device=args.device))):
        print(f"ranks: {line}")


def _located(args: argparse.Namespace, result):
    """The result as the board keeps it: a saved features file's path is recorded relative to the board."""
    import dataclasses
    import os

    record = result.samples.get("features_file")
    if not record or not args.json:
        return result
    from genbench.compare.features_file import features_path

    rel = os.path.relpath(os.path.abspath(features_path(args.json)), os.path.abspath(Path(args.add_to).parent))
    return dataclasses.replace(result, samples={**result.samples, "features_file": {**record, "board_path": rel}})


def _options(args: argparse.Namespace) -> EvalOptions:
    return eval_options(args, extractor=args.extractor, num_samples=args.num_samples, num_reference=args.num_ref,
                        seed=args.seed, cache_dir=False if args.no_cache else args.cache_dir, bootstrap=args.bootstrap,
                        prompt_template=args.prompt_template, value_range=args.value_range,
                        progress=not args.quiet)


def _check_outputs(args: argparse.Namespace) -> None:
    """--json: a writable file path in an existing folder; --add-to: a readable, writable, parseable board."""
    if args.json:
        check_output_file(Path(args.json), "--json")
    if args.add_to:
        from genbench.board.leaderboard import Leaderboard

        board = Path(args.add_to)
        check_output_file(board, "--add-to")
        Leaderboard.load(board)  # raises a GenbenchError naming the file and line if it does not parse


def _check_save_features(args: argparse.Namespace) -> None:
    """--save-features needs --json and a protocol with gate rules; checked before any evaluation."""
    from genbench.compare.features_file import features_path
    from genbench.protocols import PROTOCOLS

    if not args.json:
        raise ConfigError("--save-features needs --json R.json (the features go beside it, as R.features.npz)")
    if not args.protocol or not PROTOCOLS.get(args.protocol).gate_rules:
        raise ConfigError("--save-features needs a --protocol with gate rules (its rules say which features to keep)")
    check_output_file(features_path(args.json), "--save-features")


def _save_features(args: argparse.Namespace, result) -> None:
    from genbench.compare.features_file import describe_bytes
    from genbench.compare.find_features import GateOptions, gate_tools
    from genbench.compare.verify import save_gated_features
    from genbench.protocols import PROTOCOLS
    from genbench.sets.samples import open_samples

    proto = PROTOCOLS.get(args.protocol)
    samples = open_samples(args.samples, value_range=args.value_range, what="--samples").take(result.samples["n"])
    opts = GateOptions(device=args.device, weights=parse_weights(args.weights),
                       allow_unverified=args.allow_unverified_weights,
                       cache_dir=False if args.no_cache else args.cache_dir, batch_size=args.batch_size)
    metrics = [r.metric for r in proto.gate_rules]
    extractors, finder = gate_tools(proto, metrics, opts, {samples.fingerprint: samples})
    record = save_gated_features(result, args.json, proto, finder, extractors)
    print(f"wrote {record['path']} ({describe_bytes(record)}, sha256 {record['sha256'][:16]}…)")
