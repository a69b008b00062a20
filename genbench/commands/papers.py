"""`genbench papers list | show NAME`: the published tables genbench carries, with their protocols."""
from __future__ import annotations

import argparse


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
