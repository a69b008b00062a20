"""Leaderboard: long-format JSONL of EvalResults, ranked per protocol, rendered wide.

On disk (`leaderboards/<suite>.jsonl`) there is one JSON row per model x metric output:

    {"suite", "model", "metric", "value", "std", "ci95": [lo, hi] | null, "higher_is_better",
     "protocol": <EvalResult.protocol>, "protocol_id", "samples", "reference", "skipped", "entry",
     "details"?}

`protocol_id` = "<name>@<version>/n=<N gen>/ref=<reference fingerprint[:12]>": rows with different
ids are never ranked together. `entry` numbers each `add_result` call (1, 2, ...). `add_results` appends
(the file is rewritten whole, atomically, under a file lock); a suite run (`set_results`) replaces
its models' earlier rows instead, so rerunning a suite never leaves a second copy. When reading, the
latest entry for a (model, protocol_id) replaces the earlier ones as a whole, so the latest rows for every
(model, metric, protocol_id) win and a stale metric from an older evaluation never mixes into a row.

Results computed with unverified weights are refused: they are never ranked.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Mapping

import pandas as pd

from genbench.errors import GenbenchError, InputError
from genbench.eval.names import MAX_NAME_LEN, validate_model_name  # noqa: F401 (re-exported)
from genbench.io import atomic_write_text, lock_for
from genbench.metrics.base import MetricValue
from genbench.eval.result import EvalResult, protocol_id

def _jsonable(x: object) -> object:
    """Floats that JSON can carry: NaN and infinities become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def result_rows(result: EvalResult, model: str, suite: str, entry: int) -> list[dict]:
    """The long-format rows of one result (one per metric output, sorted by metric name)."""
    pid = protocol_id(result)
    rows = []
    for metric in sorted(result.metrics):
        mv = result.metrics[metric]
        row = {"suite": suite, "model": model, "metric": metric, "value": _jsonable(float(mv.value)),
               "std": None if mv.std is None else _jsonable(float(mv.std)),
               "ci95": None if mv.ci95 is None else [float(mv.ci95[0]), float(mv.ci95[1])],
               "higher_is_better": result.directions.get(metric), "protocol": result.protocol,
               "protocol_id": pid, "samples": result.samples, "reference": result.reference,
               "skipped": dict(sorted(result.skipped.items())), "entry": entry}
        if mv.details:
            row["details"] = mv.details
        rows.append(row)
    return rows


_NUM = (int, float)


_ROW_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {  # field -> (types, required)
    "model": ((str,), True), "metric": ((str,), True), "value": (_NUM + (type(None),), True),
    "protocol_id": ((str,), True), "std": (_NUM + (type(None),), False), "entry": ((int,), False),
    "ci95": ((list, type(None)), False), "higher_is_better": ((bool, type(None)), False),
    "protocol": ((dict, type(None)), False), "samples": ((dict, type(None)), False),
    "reference": ((dict, type(None)), False), "skipped": ((dict, type(None)), False),
    "details": ((dict, type(None)), False), "suite": ((str, type(None)), False),
}


def _check_row(row: object, where: str) -> dict:
    """A parsed JSONL row with the fields and types a leaderboard relies on, else InputError(where)."""
    if not isinstance(row, dict):
        raise InputError(f"{where}: not a leaderboard row (a JSON {type(row).__name__}, expected an object)")
    for key, (types, required) in _ROW_TYPES.items():
        if key not in row:
            if required:
                raise InputError(f"{where}: not a leaderboard row (missing {key!r}; needs model, metric, value, "
                                 "protocol_id)")
            continue
        v = row[key]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            raise InputError(f"{where}: field {key!r} has the wrong type ({type(v).__name__})")
    ci = row.get("ci95")
    if ci is not None and (len(ci) != 2 or not all(isinstance(x, _NUM) and not isinstance(x, bool) for x in ci)):
        raise InputError(f"{where}: field 'ci95' must be null or two numbers")
    if not row["model"] or not row["metric"]:
        raise InputError(f"{where}: empty model or metric name")
    validate_model_name(row["model"], f"{where}: field 'model'")
    return row


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of a file, refusing invalid UTF-8 with the line that holds it."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    out = []
    for i, raw in enumerate(data.split(b"\n"), 1):
        try:
            out.append((i, raw.decode("utf-8")))
        except UnicodeDecodeError as e:
            raise InputError(f"{path}:{i}: invalid UTF-8 at byte {e.start} of the line") from None
    return out


def read_rows(path: Path) -> list[dict]:
    """All rows of a leaderboard JSONL file, in file order ([] if the file does not exist)."""
    if not path.exists():
        return []
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a leaderboard file")
    rows = []
    for i, line in _lines(path):
        if not line.strip():
            continue
        try:
            rows.append(_check_row(json.loads(line), f"{path}:{i}"))
        except (json.JSONDecodeError, RecursionError) as e:
            raise InputError(f"{path}:{i}: invalid JSON ({getattr(e, 'msg', 'nested too deeply')})") from None
    return rows


def latest_rows(rows: list[dict]) -> list[dict]:
    """Keep, for each (model, protocol_id), only the rows of its latest entry."""
    last: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        key = (r["model"], r["protocol_id"])
        last[key] = max(last.get(key, -1), int(r.get("entry", i)))
    out: dict[tuple[str, str, str], dict] = {}
    for i, r in enumerate(rows):
        if int(r.get("entry", i)) == last[(r["model"], r["protocol_id"])]:
            out[(r["model"], r["protocol_id"], r["metric"])] = r
    return list(out.values())


@dataclass(frozen=True)
class Group:
    """The rows of one protocol_id, ranked: what one wide table shows."""

    protocol_id: str
    rows: tuple[dict, ...]

    @property
    def protocol(self) -> dict:
        return self.rows[0].get("protocol") or {}

    @property
    def primary(self) -> str:
        return str(self.protocol.get("primary", ""))

    def models(self) -> list[str]:
        return sorted({r["model"] for r in self.rows})

    def metrics(self) -> list[str]:
        """Column order: the primary metric first, then the others alphabetically."""
        names = sorted({r["metric"] for r in self.rows})
        return ([self.primary] if self.primary in names else []) + [m for m in names if m != self.primary]

    def direction(self, metric: str) -> bool | None:
        for r in self.rows:
            if r["metric"] == metric and r.get("higher_is_better") is not None:
                return bool(r["higher_is_better"])
        return None

    @cached_property
    def _index(self) -> dict[tuple[str, str], dict]:
        return {(r["model"], r["metric"]): r for r in self.rows}

    def cell(self, model: str, metric: str) -> dict | None:
        return self._index.get((model, metric))

    def ranked_models(self) -> list[str]:
        """Models ranked by the primary metric in its direction; missing or NaN values last, ties by name."""
        higher = self.direction(self.primary)

        def key(model: str) -> tuple:
            r = self.cell(model, self.primary)
            v = None if r is None else r.get("value")
            if v is None or higher is None or (isinstance(v, float) and math.isnan(v)):
                return (1, 0.0, model)
            return (0, -v if higher else v, model)

        return sorted(self.models(), key=key)

    def skipped(self) -> dict[str, dict[str, list[str]]]:
        """metric -> reason -> models that skipped it."""
        out: dict[str, dict[str, list[str]]] = {}
        seen: set[str] = set()
        for r in self.rows:
            if r["model"] in seen:
                continue
            seen.add(r["model"])
            for metric, why in (r.get("skipped") or {}).items():
                out.setdefault(metric, {}).setdefault(str(why), []).append(r["model"])
        return {m: {w: sorted(ms) for w, ms in sorted(d.items())} for m, d in sorted(out.items())}

    def frame(self, ci: bool = False) -> pd.DataFrame:
        """Wide table, models (ranked) as index, one float column per metric; `ci=True` gives
        MultiIndex columns (metric, field) with field in value, std, ci95_lo, ci95_hi."""
        fields = ("value", "std", "ci95_lo", "ci95_hi") if ci else ("value",)
        models = self.ranked_models()
        data = {}
        for metric in self.metrics():
            for f in fields:
                data[(metric, f) if ci else metric] = [_field(self.cell(m, metric), f) for m in models]
        frame = pd.DataFrame(data, index=pd.Index(models, name="model"), dtype="float64")
        if ci:
            frame.columns = pd.MultiIndex.from_tuples(list(data), names=["metric", "field"])
        frame.attrs.update({"protocol_id": self.protocol_id, "primary": self.primary})
        return frame


def _field(row: dict | None, f: str) -> float:
    if row is None:
        return math.nan
    if f in ("ci95_lo", "ci95_hi"):
        ci = row.get("ci95")
        return math.nan if not ci else float(ci[0 if f == "ci95_lo" else 1])
    v = row.get(f)
    return math.nan if v is None else float(v)


class Leaderboard:
    """A suite's leaderboard: rows from `leaderboards/<suite>.jsonl`, grouped per protocol_id."""

    def __init__(self, rows: list[dict] | None = None, path: str | Path | None = None,
                 suite: str | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.suite = suite or (self.path.stem if self.path is not None else "leaderboard")
        self._all = list(rows or [])

    @classmethod
    def load(cls, path: str | Path) -> "Leaderboard":
        """Read a JSONL leaderboard (an empty board if the file does not exist yet)."""
        path = Path(path)
        if path.suffix != ".jsonl":
            raise InputError(f"{path}: a leaderboard file must end in .jsonl")
        return cls(read_rows(path), path)

    # ---- writing ------------------------------------------------------------------------------
    def add_result(self, result: EvalResult, model: str) -> list[dict]:
        """Append a result's rows (atomic, locked). Refuses unverified results and empty model names."""
        return self.add_results({model: result})

    def add_results(self, results: Mapping[str, EvalResult]) -> list[dict]:
        """Append several models' results in one locked, atomic write (one entry each, in name order).
        A model already on the board under the same protocol_id is replaced logically."""
        for model, result in results.items():
            _check_addable(result, model, self.path or self.suite)
        if self.path is None:
            return self._append(self._all, results)
        with lock_for(self.path):
            existing = read_rows(self.path)
            rows = self._append(existing, results)
            atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self._all))
        return rows

    def set_results(self, results: Mapping[str, EvalResult]) -> list[dict]:
        """A suite run's results: each model's rows *replace* its earlier rows under the same protocol_id (one
        locked, atomic write), so the file stays an honest log of what the board shows, not a second copy.
        The other rows keep their order; entries are renumbered 1, 2, ... so that a rerun writes the same
        bytes as a run on an empty board."""
        for model, result in results.items():
            _check_addable(result, model, self.path or self.suite)
        if self.path is None:
            return self._replace(self._all, results)
        with lock_for(self.path):
            rows = self._replace(read_rows(self.path), results)
            atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self._all))
        return rows

    def _replace(self, existing: list[dict], results: Mapping[str, EvalResult]) -> list[dict]:
        replaced = {(m, protocol_id(r)) for m, r in results.items()}
        kept = _renumbered([r for r in existing if (r["model"], r["protocol_id"]) not in replaced])
        self._all = kept
        return self._append(kept, results)

    def _append(self, existing: list[dict], results: Mapping[str, EvalResult]) -> list[dict]:
        """Append one entry per model, except where the model's latest rows are already identical
        (so rerunning a suite that reproduces its results leaves the file unchanged)."""
        rows: list[dict] = []
        entry = _next_entry(existing)
        current = _by_model(latest_rows(existing))
        for model in sorted(results):
            new = result_rows(results[model], model, self.suite, entry)
            if _strip_entry(new) == _strip_entry(current.get((model, new[0]["protocol_id"] if new else ""), [])):
                continue
            rows += new
            entry += 1
        self._all = list(existing) + rows
        return rows

    def render_files(self, formats: tuple[str, ...] = ("md", "csv")) -> list[Path]:
        """Write <suite>.md / .csv (/ .html table / .tex) next to the JSONL (atomic, locked)."""
        from genbench.board.render import render

        if self.path is None:
            raise InputError("this leaderboard has no file path; use genbench.board.render.render() instead")
        out = []
        with lock_for(self.path):
            for fmt in formats:
                suffix = {"latex": ".tex"}.get(fmt, f".{fmt}")
                out.append(atomic_write_text(self.path.with_suffix(suffix), render(self, fmt)))
        return out

    # ---- reading ------------------------------------------------------------------------------
    @property
    def all_rows(self) -> list[dict]:
        """Every row ever appended, in file order."""
        return list(self._all)

    def rows(self) -> list[dict]:
        """Current rows: the latest entry of each (model, protocol_id)."""
        return latest_rows(self._all)

    def groups(self) -> list[Group]:
        """One group per protocol_id; the main group (most models) first, then by id."""
        by_id: dict[str, list[dict]] = {}
        for r in self.rows():
            by_id.setdefault(r["protocol_id"], []).append(r)
        groups = [Group(pid, tuple(sorted(rs, key=lambda r: (r["model"], r["metric"]))))
                  for pid, rs in by_id.items()]
        return sorted(groups, key=lambda g: (-len(g.models()), g.protocol_id))

    def protocol_ids(self) -> list[str]:
        return [g.protocol_id for g in self.groups()]

    def group(self, protocol_id: str | None = None) -> Group:
        groups = self.groups()
        if not groups:
            raise InputError(f"{self.path or self.suite}: the leaderboard is empty")
        if protocol_id is None:
            return groups[0]
        for g in groups:
            if g.protocol_id == protocol_id:
                return g
        raise InputError(f"protocol_id {protocol_id!r} is not on this leaderboard "
                         f"(present: {', '.join(self.protocol_ids())})")

    def to_frame(self, protocol_id: str | None = None, ci: bool = False) -> pd.DataFrame:
        """The ranked wide table of one protocol_id (default: the main group). Index: model; columns:
        metric values (float); with ci=True a (metric, value|std|ci95_lo|ci95_hi) MultiIndex."""
        return self.group(protocol_id).frame(ci=ci)

    def result_for(self, model: str, protocol_id: str | None = None) -> EvalResult:
        """Rebuild a model's EvalResult from its current rows (for the release gate's baseline)."""
        rows = [r for r in self.rows() if r["model"] == model
                and (protocol_id is None or r["protocol_id"] == protocol_id)]
        if not rows:
            known = ", ".join(sorted({r["model"] for r in self.rows()})) or "none"
            raise InputError(f"model {model!r} is not on leaderboard {self.path or self.suite} "
                             f"{'with ' + protocol_id if protocol_id else ''} (models: {known})")
        pids = sorted({r["protocol_id"] for r in rows})
        if len(pids) > 1:
            raise InputError(f"model {model!r} appears under several protocols ({', '.join(pids)}); name one")
        return _rows_to_result(rows, model)


def _check_addable(result: EvalResult, model: str, where: object) -> None:
    if result.unverified:
        raise GenbenchError(f"{model}: result computed with UNVERIFIED weights; it is never written to "
                            f"a leaderboard ({where})")
    validate_model_name(model, where)


def _by_model(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["model"], r["protocol_id"]), []).append(r)
    return out


def _strip_entry(rows: list[dict]) -> list[str]:
    """Rows compared without their entry number, as canonical JSON (order-independent)."""
    return sorted(json.dumps({k: v for k, v in r.items() if k != "entry"}, sort_keys=True) for r in rows)


def _renumbered(rows: list[dict]) -> list[dict]:
    """The rows with their entries renumbered 1, 2, ... in the order of the old numbers (latest still wins)."""
    olds = sorted({int(r.get("entry", 0)) for r in rows})
    new = {old: i for i, old in enumerate(olds, 1)}
    return [{**r, "entry": new[int(r.get("entry", 0))]} for r in rows]


def _next_entry(rows: list[dict]) -> int:
    return max((int(r.get("entry", 0)) for r in rows), default=0) + 1


def _rows_to_result(rows: list[dict], model: str) -> EvalResult:
    metrics = {r["metric"]: MetricValue(math.nan if r["value"] is None else float(r["value"]), r.get("std"),
                                        tuple(r["ci95"]) if r.get("ci95") else None, r.get("details") or {})
               for r in rows}
    first = rows[0]
    return EvalResult(metrics, first.get("protocol") or {}, first.get("samples") or {},
                      first.get("reference") or {}, dict(first.get("skipped") or {}),
                      {r["metric"]: r.get("higher_is_better") for r in rows}, model)
