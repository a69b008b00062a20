"""The `genbench power` parser (implementation: genbench.commands.power)."""
from __future__ import annotations

import argparse

from genbench.commands.common import add_device, add_weights, positive_int
from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("power", help="plan a gate's sample size: detection and false-alarm rates against N")
    p.add_argument("--protocol", default="digits-default", help="protocol (default digits-default)")
    p.add_argument("--rule", action="append", default=[], metavar="RULE",
                   help='e.g. "fd<=+15" (repeatable; default: the protocol\'s gate rules)')
    p.add_argument("--baseline", required=True, help="baseline pilot samples (folder, .npz/.npy, dataset name)")
    p.add_argument("--candidate", default=None, help="candidate pilot samples (instead of --kind)")
    p.add_argument("--kind", default=None,
                   help="a regression of the baseline: blur, noise, missing-class, partial-class, fd-shift")
    p.add_argument("--size", type=float, default=None,
                   help="its size: blur steps, noise sigma (of 255), classes removed or thinned (partial-class), "
                        "fd shift (in the primary metric's feature space; other spaces unchanged)")
    p.add_argument("--share", type=float, default=None,
                   help="partial-class: the fraction of its share each thinned class keeps, e.g. 0.3")
    p.add_argument("--ref", default=None, help="reference set (default: the protocol's)")
    p.add_argument("--sizes", default="250,500,1000,2000,5000,10000,50000", help="N values to plan for")
    p.add_argument("--detect", type=float, default=0.95, help="target detection rate (default 0.95)")
    p.add_argument("--false-alarm", type=float, default=0.05, help="largest false-alarm rate (default 0.05)")
    p.add_argument("--bootstrap", type=positive_int, default=200, help="replicates per pilot subset (default 200)")
    p.add_argument("--draws", type=positive_int, default=40,
                   help="fresh pilot subsets per size for the spread of the difference (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the plan as JSON here")
    add_device(p)
    add_weights(p)
    p.set_defaults(func=Run("power"))
