"""`genbench export SRC --out DIR|FILE.npz`: convert between sample-set forms."""
from __future__ import annotations

import argparse

from genbench.commands.common import positive_int, add_value_range


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="convert a sample set to a PNG folder or an ADM-layout .npz")
    p.add_argument("src", help="folder, .npz/.npy or built-in dataset name")
    p.add_argument("--out", required=True, help="output folder or .npz file")
    p.add_argument("--num-samples", type=positive_int, default=None, help="export only the first N")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder (only one that genbench wrote)")
    add_value_range(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genbench.sets.export import check_target, export
    from genbench.sets.samples import open_samples

    check_target(args.out, args.overwrite, (args.src,))  # before reading anything
    samples = open_samples(args.src, value_range=args.value_range, what="SRC").take(args.num_samples)
    out = export(samples, args.out, overwrite=args.overwrite, inputs=(args.src,))
    print(f"wrote {len(samples)} items to {out} (fingerprint {samples.fingerprint[:16]})")
    return 0
