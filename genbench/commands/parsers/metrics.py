"""The `genbench metrics` parser (implementation: genbench.commands.metrics)."""
from __future__ import annotations

import argparse

from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="list metrics (with the reference code each matches), extractors and "
                                       "protocols")
    p.set_defaults(func=Run("metrics"))
