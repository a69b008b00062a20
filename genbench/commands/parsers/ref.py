"""`genbench ref SOURCE (--protocol P | --extractor E) --out ref.npz` and `genbench ref import FILE ...`.

Writes reference statistics files (genbench.refs.stats): mean, covariance, its square root, optionally the
features (--keep-features) and the full record. `ref import` converts pytorch-fid / ADM / clean-fid files.
"""
from __future__ import annotations

import argparse

from genbench.commands.common import (add_device, add_feature_store, add_quiet, add_value_range, add_weights,
                                      positive_int)
from genbench.commands.parsers import Run


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
    add_feature_store(p)
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    add_value_range(p)
    add_quiet(p)
    add_device(p)
    add_weights(p)
    p.set_defaults(func=Run("ref"))
