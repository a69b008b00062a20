"""`genbench ref SOURCE (--protocol P | --extractor E) --out ref.npz` and `genbench ref import FILE ...`.

Writes reference statistics files (genbench.refs.stats): mean, covariance, its square root, optionally the
features (--keep-features) and the full record. `ref import` converts pytorch-fid / ADM / clean-fid files.
"""
from __future__ import annotations

import argparse
import sys

from genbench.commands.common import add_device, add_weights, eval_options, positive_int, add_value_range
from genbench.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ref", help="write reference statistics (or import a pytorch-fid/ADM/clean-fid file)",
                       description=__doc__)
    p.add_argument("source", metavar="SOURCE", help="folder, .npz/.npy or dataset name; or 'import' FILE")
    p.add_argument("file", nargs="?", default=None, metavar="FILE", help="with 'import': the foreign stats file")
    p.add_argument("--out", required=True, help="output .npz (a protocol's other spaces go beside it as "
                                                "<stem>.<extractor>.npz)")
    p.add_argument("--protocol", default=None, help="write statistics for each feature space of this protocol")
    p.add_argument("--extractor", default=None, help="write statistics for this extractor")
    p.add_argument("--keep-features", action="store_true",
                   help="also store the features (float32) and other outputs, for k-NN metrics, KID, IS")
    p.add_argument("--format", default=None, choices=["pytorch-fid", "adm", "clean-fid"],
                   help="with 'import': the layout of FILE")
    p.add_argument("--n", type=positive_int, default=None, help="with 'import': number of images behind mu/sigma")
    p.add_argument("--num", type=positive_int, default=None, help="use the first N images of SOURCE")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--cache-dir", default=None, help="feature cache (default $GENBENCH_HOME/cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    add_value_range(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device(p)
    add_weights(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.source == "import" and args.file is not None:
        return _import(args)
    if args.file is not None:
        raise ConfigError(f"unexpected argument {args.file!r} (only `genbench ref import FILE` takes two)")
    if args.format is not None or args.n is not None:
        raise ConfigError("--format/--n: only with `genbench ref import FILE`")
    from genbench.refs.build import build_reference

    opts = eval_options(args, extractor=args.extractor, cache_dir=False if args.no_cache else args.cache_dir,
                        progress=sys.stderr.isatty() and not args.quiet, value_range=args.value_range)
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
