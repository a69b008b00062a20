"""`genbench export SRC --out DIR|FILE.npz`: convert between sample-set forms."""
from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from genbench.sets.export import check_target, export
    from genbench.sets.samples import open_samples

    check_target(args.out, args.overwrite, (args.src,))  # before reading anything
    samples = open_samples(args.src, value_range=args.value_range, what="SRC").take(args.num_samples)
    out = export(samples, args.out, overwrite=args.overwrite, inputs=(args.src,))
    print(f"wrote {len(samples)} items to {out} (fingerprint {samples.fingerprint[:16]})")
    return 0
