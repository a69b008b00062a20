"""`genbench metrics`: every metric (direction, unit, needs, definition, the code it matches and how it
differs from its peers), the feature extractors and the protocol presets."""
from __future__ import annotations

import argparse
import textwrap

_INDENT = " " * 19


def _arrow(v: bool | None) -> str:
    return "↑" if v else ("↓" if v is False else "·")


def _wrap(label: str, text: str) -> str:
    return textwrap.fill(text, width=110, initial_indent=f"{_INDENT}{label}", subsequent_indent=_INDENT + "  ",
                         break_on_hyphens=False)


def metric_lines(name: str, cls: type) -> list[str]:
    """The block `genbench metrics` prints for one metric class."""
    units = getattr(cls, "units", {}) or {}
    outs = " ".join(f"{o}{_arrow(cls.higher_is_better.get(o))}" + (f" [{units[o]}]" if o in units else "")
                    for o in cls.outputs)
    lines = [f"  {name:<16} {outs}", _wrap("needs: ", ", ".join(cls.needs) or "-"), _wrap("", cls.definition)]
    if getattr(cls, "matches", ""):
        lines.append(_wrap("matches: ", cls.matches))
    lines += [_wrap("differs: ", d) for d in getattr(cls, "differences", ())]
    return lines


def run(args: argparse.Namespace) -> int:
    from genbench.features import EXTRACTORS, load_all as load_extractors
    from genbench.metrics import METRICS, load_all
    from genbench.protocols import PROTOCOLS

    load_all()
    load_extractors()
    print("Metrics (↑ higher is better, ↓ lower is better, · diagnostic; [unit] where values are scaled):")
    for name, cls in METRICS.items():
        print("\n".join(metric_lines(name, cls)))
    print("\nFeature extractors:")
    for name, spec in EXTRACTORS.items():
        print(f"  {name:<20} outputs {', '.join(spec.outputs)}; {spec.description}")
    print("\nProtocols:")
    for name, proto in PROTOCOLS.items():
        print(f"  {name:<24} v{proto.version}, primary {proto.primary}: {proto.description}")
    return 0
