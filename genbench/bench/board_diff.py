"""Compare a board a run just wrote (under runs/) with the committed one (leaderboards/): `make run`'s verdict.

A board is its four files, `<name>.md`, `.csv`, `.ranks.json` and `.jsonl`. The rendered ones (.md, .csv,
.ranks.json) are compared byte for byte. The JSONL is an honest log and names the CPU model that computed each
row, so it is compared row by row without the fields that say where it ran (`protocol.cpu`,
`protocol.reproducibility`): byte-identical boards from two CPU kinds of one reproducibility class have equal
rows that differ only there. Where the Markdown tables differ, the cells that differ are listed with the
reasons the two boards' records give: another reproducibility class (genbench.reproducible), other library
versions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from genbench.reproducible import row_class

RENDERED = (".md", ".csv", ".ranks.json")
_WHERE = ("cpu", "reproducibility")  # protocol fields that name the machine, not the computation
_VERSIONS = (("torch_version", "torch"), ("numpy_version", "numpy"), ("genbench_version", "genbench"),
             ("python", "python"))


@dataclass(frozen=True)
class CellDiff:
    table: int
    model: str
    column: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class BoardComparison:
    ours: Path  # the new board's .md
    theirs: Path  # the committed board's .md
    differing_files: tuple[str, ...]  # suffixes whose content differs (.jsonl: beyond where it ran)
    cells: tuple[CellDiff, ...]
    reasons: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not self.differing_files


def compare_boards(ours_jsonl: Path, theirs_jsonl: Path) -> BoardComparison:
    """Compare board `ours_jsonl` (and its rendered files) with `theirs_jsonl`'s."""
    differing = [s for s in RENDERED if _read(ours_jsonl, s) != _read(theirs_jsonl, s)]
    if _rows(ours_jsonl, strip=True) != _rows(theirs_jsonl, strip=True):
        differing.append(".jsonl")
    md_ours, md_theirs = _read(ours_jsonl, ".md"), _read(theirs_jsonl, ".md")
    cells = table_diff(md_ours.decode(errors="replace"), md_theirs.decode(errors="replace"))
    reasons = why_different(_rows(ours_jsonl), _rows(theirs_jsonl)) if differing else []
    return BoardComparison(_md(ours_jsonl), _md(theirs_jsonl), tuple(differing), tuple(cells), tuple(reasons))


def _md(jsonl: Path) -> Path:
    return jsonl.with_suffix(".md")


def _read(jsonl: Path, suffix: str) -> bytes:
    path = jsonl.with_suffix(suffix)
    return path.read_bytes() if path.exists() else b""


def _rows(jsonl: Path, strip: bool = False) -> list[dict]:
    if not jsonl.exists():
        return []
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    if strip:
        for r in rows:
            r["protocol"] = {k: v for k, v in (r.get("protocol") or {}).items() if k not in _WHERE}
    return rows


def tables(md: str) -> list[tuple[list[str], dict[str, list[str]]]]:
    """The Markdown tables of a board: (header cells, model -> row cells), in order."""
    out: list[tuple[list[str], dict[str, list[str]]]] = []
    header: list[str] | None = None
    for line in md.splitlines() + [""]:
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            out.append((header, {}))
        elif not set("".join(cells)) <= set("-: "):
            out[-1][1][cells[1] if len(cells) > 1 else cells[0]] = cells
    return out


def table_diff(ours: str, theirs: str) -> list[CellDiff]:
    """The cells that differ between two rendered boards (a missing row or column counts as a cell)."""
    a, b = tables(ours), tables(theirs)
    diffs = []
    for t in range(max(len(a), len(b))):
        ha, ra = a[t] if t < len(a) else ([], {})
        hb, rb = b[t] if t < len(b) else ([], {})
        columns = list(dict.fromkeys(ha + hb))
        for model in list(dict.fromkeys(list(ra) + list(rb))):
            for col in columns:
                x, y = _cell(ha, ra.get(model), col), _cell(hb, rb.get(model), col)
                if x != y:
                    diffs.append(CellDiff(t + 1, model, col, x, y))
    return diffs


def _cell(header: list[str], row: list[str] | None, column: str) -> str:
    if row is None or column not in header:
        return "(absent)"
    i = header.index(column)
    return row[i] if i < len(row) else "(absent)"


def why_different(ours: list[dict], theirs: list[dict]) -> list[str]:
    """Where the two boards' records disagree on what makes values reproduce: class, then versions."""
    mine, other = _environment(ours), _environment(theirs)
    reasons = [f"{label}: {mine[key]} here, {other[key]} in the committed board"
               for key, label in (("class", "reproducibility class"),) + _VERSIONS if mine[key] != other[key]]
    return reasons or ["same reproducibility class and versions: not explained by the machine (please report)"]


def _environment(rows: list[dict]) -> dict[str, str]:
    """The class and versions of a board's rows ("several: ..." where its rows disagree)."""
    out = {}
    for key in ("class",) + tuple(k for k, _ in _VERSIONS):
        seen = list(dict.fromkeys(_field(r.get("protocol") or {}, key) for r in rows)) or ["(no rows)"]
        out[key] = seen[0] if len(seen) == 1 else "several: " + ", ".join(seen)
    return out


def _field(protocol: dict, key: str) -> str:
    if key == "class":
        return row_class(protocol)
    return str(protocol.get(key, "?"))
