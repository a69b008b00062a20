"""`genbench papers list | show NAME`: the published tables genbench carries, with their protocols."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("papers", help="published tables (DDPM, LDM, PacGAN, VEEGAN) with their protocols")
    acts = p.add_subparsers(dest="papers_command", metavar="ACTION")
    acts.add_parser("list", help="list the tables").set_defaults(func=run)
    show = acts.add_parser("show", help="print one table and its protocol")
    show.add_argument("name", metavar="NAME", help="table name (see `genbench papers list`)")
    show.set_defaults(func=run)
    p.set_defaults(func=run, papers_command="list")


def run(args: argparse.Namespace) -> int:
    from genbench.bench.papers import PAPERS, get_paper

    if args.papers_command == "show":
        t = get_paper(args.name)
        print(f"{t.name}: {t.paper}\n{t.citation}")
        print(f"protocol: {t.protocol or '(no genbench preset)'} — {t.protocol_description}\n")
        print(t.frame.to_string())
        return 0
    width = max(len(n) for n in PAPERS.names())
    for name, t in PAPERS.items():
        print(f"{name:<{width}}  {t.protocol or '-':<22}  {t.paper}")
    return 0
