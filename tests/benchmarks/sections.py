"""Replace one '## ' section of BENCHMARKS.md, keeping the others (atomic write)."""
from __future__ import annotations

from pathlib import Path

from genbench.io import atomic_write_text

BENCHMARKS = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nMeasured by `make bench` (tests/benchmarks/). Each section says where and how.\n"


def write_section(title: str, body: str, path: Path = BENCHMARKS) -> None:
    text = path.read_text() if path.exists() else HEADER
    parts = text.split("\n## ")
    head, sections = parts[0], {p.split("\n", 1)[0]: p for p in parts[1:]}
    sections[title] = f"{title}\n\n{body.strip()}\n"
    atomic_write_text(path, head.rstrip() + "\n\n## " + "\n## ".join(sections[k] for k in sections))
