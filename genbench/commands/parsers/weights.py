"""`genbench weights list | verify [NAME] | import NAME PATH | download NAME`: the offline weights store."""
from __future__ import annotations

import argparse

from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="list, verify, import or download network weights",
                       description=f"{__doc__} Store: $GENBENCH_HOME/weights (default ~/.cache/genbench/weights).")
    actions = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="registered weights, file, present?, verified?")
    v = actions.add_parser("verify", help="check stored files against their sha256")
    v.add_argument("name", nargs="?", help="one weights entry (default: every present file)")
    i = actions.add_parser("import", help="copy a local file into the store after checking its sha256")
    i.add_argument("name")
    i.add_argument("path")
    i.add_argument("--allow-unverified-weights", action="store_true",
                   help="store the file even if its sha256 does not match (results are marked unverified)")
    d = actions.add_parser("download", help="fetch from the canonical URL (the only network access)")
    d.add_argument("name")
    p.set_defaults(func=Run("weights"))
