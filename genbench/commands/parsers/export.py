"""The `genbench export` parser (implementation: genbench.commands.export)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_value_range, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="convert a sample set to a PNG folder or an ADM-layout .npz")
    p.add_argument("src", help="folder, .npz/.npy or built-in dataset name")
    p.add_argument("--out", required=True, help="output folder or .npz file")
    p.add_argument("--num-samples", type=positive_int, default=None, help="export only the first N")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder (only one that genbench wrote)")
    add_value_range(p)
    p.set_defaults(func=Run("export"))
