"""The `genbench papers` parser (implementation: genbench.commands.papers)."""
from __future__ import annotations

import argparse

from genbench.commands.parsers import Run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("papers", help="published tables (DDPM, LDM, PacGAN, VEEGAN) with their protocols")
    acts = p.add_subparsers(dest="papers_command", metavar="ACTION")
    acts.add_parser("list", help="list the tables").set_defaults(func=Run("papers"))
    show = acts.add_parser("show", help="print one table and its protocol")
    show.add_argument("name", metavar="NAME", help="table name (see `genbench papers list`)")
    show.set_defaults(func=Run("papers"))
    p.set_defaults(func=Run("papers"), papers_command="list")
