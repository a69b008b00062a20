"""`genbench metrics`: list every metric (direction, needs, definition) and the protocol presets."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="list metrics, extractors and protocols")
    p.set_defaults(func=run)


def _arrow(v: bool | None) -> str:
    return "↑" if v else ("↓" if v is False else "·")


def run(args: argparse.Namespace) -> int:
    from genbench.features import EXTRACTORS, load_all as load_extractors
    from genbench.metrics import METRICS, load_all
    from genbench.protocols import PROTOCOLS

    load_all()
    load_extractors()
    print("Metrics (↑ higher is better, ↓ lower is better, · diagnostic):")
    for name, cls in METRICS.items():
        outs = " ".join(f"{o}{_arrow(cls.higher_is_better.get(o))}" for o in cls.outputs)
        print(f"  {name:<16} {outs}\n  {'':<16} needs: {', '.join(cls.needs) or '-'}\n  {'':<16} {cls.definition}")
    print("\nFeature extractors:")
    for name, spec in EXTRACTORS.items():
        print(f"  {name:<20} outputs {', '.join(spec.outputs)}; {spec.description}")
    print("\nProtocols:")
    for name, proto in PROTOCOLS.items():
        print(f"  {name:<24} v{proto.version}, primary {proto.primary}: {proto.description}")
    return 0
