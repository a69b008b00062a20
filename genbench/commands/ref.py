"""`genbench ref SOURCE (--protocol P | --extractor E) --out ref.npz` and `genbench ref import FILE ...`.

Writes reference statistics files (genbench.refs.stats): mean, covariance, its square root, optionally the
features (--keep-features) and the full record. `ref import` converts pytorch-fid / ADM / clean-fid files.
"""
from __future__ import annotations

import argparse

from genbench.commands.common import eval_options
from genbench.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    if args.source == "import" and args.file is not None:
        return _import(args)
    if args.file is not None:
        raise ConfigError(f"unexpected argument {args.file!r} (only `genbench ref import FILE` takes two)")
    if args.format is not None or args.n is not None:
        raise ConfigError("--format/--n: only with `genbench ref import FILE`")
    from genbench.refs.build import build_reference

    opts = eval_options(args, extractor=args.extractor, cache_dir=False if args.no_cache else args.cache_dir,
                        progress=not args.quiet, value_range=args.value_range)
    res = build_reference(args.source, args.out, protocol=args.protocol, keep_features=args.keep_features,
                          num=args.num, options=opts)
    for name, path in res["written"].items():
        print(f"wrote {path} ({name})")
    for name, why in res["skipped"].items():
        print(f"skipped {name}: {why}")
    return 0


def _import(args: argparse.Namespace) -> int:
    if args.format is None or args.extractor is None:
        raise ConfigError("genbench ref import FILE: needs --format pytorch-fid|adm|clean-fid and --extractor NAME")
    if args.protocol is not None or args.keep_features:
        raise ConfigError("genbench ref import: --protocol/--keep-features do not apply (name --extractor)")
    from genbench.refs.build import import_stats

    path = import_stats(args.file, args.format, args.extractor, args.out, n=args.n)
    print(f"wrote {path} (imported from {args.file}, {args.format}, asserted extractor {args.extractor})")
    return 0
