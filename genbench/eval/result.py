"""EvalResult: metric values with CIs plus the full protocol record; JSON and pandas views."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from genbench.errors import InputError
from genbench.io import atomic_write_json, no_duplicate_keys
from genbench.metrics.base import MetricValue

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class EvalResult:
    metrics: dict[str, MetricValue]
    protocol: dict  # protocol name/version, extractors + weights sha256, N, seeds, device, versions...
    samples: dict  # source, fingerprint, n
    reference: dict
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> reason
    directions: dict[str, bool | None] = field(default_factory=dict)  # output -> higher_is_better
    name: str | None = None

    @property
    def unverified(self) -> bool:
        return bool(self.protocol.get("unverified"))

    def value(self, metric: str) -> float:
        return self.metrics[metric].value

    def to_json(self) -> dict:
        return {"name": self.name,
                "metrics": {k: v.to_json() for k, v in self.metrics.items()},
                "directions": self.directions, "skipped": self.skipped,
                "protocol": self.protocol, "samples": self.samples, "reference": self.reference}

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_json())

    @classmethod
    def from_json(cls, d: dict) -> "EvalResult":
        metrics = {k: MetricValue(v["value"], v.get("std"), tuple(v["ci95"]) if v.get("ci95") else None,
                                  v.get("details", {})) for k, v in d["metrics"].items()}
        return cls(metrics, d["protocol"], d["samples"], d["reference"], d.get("skipped", {}),
                   d.get("directions", {}), d.get("name"))

    @classmethod
    def load(cls, path: str | Path) -> "EvalResult":
        try:
            doc = json.loads(Path(path).read_text(), object_pairs_hook=no_duplicate_keys)
        except RecursionError:
            raise InputError(f"{path}: not a genbench result JSON (nested too deeply)") from None
        except (OSError, UnicodeDecodeError, ValueError) as e:  # ValueError: bad JSON, a 5,000-digit number
            raise InputError(f"{path}: not a genbench result JSON ({type(e).__name__}: {e})") from None
        return cls.from_json(check_result_json(doc, str(path)))

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per metric output (pandas is imported here: 0.25 s no other command needs)."""
        import pandas as pd

        rows = []
        for k, v in self.metrics.items():
            lo, hi = v.ci95 if v.ci95 else (None, None)
            rows.append({"metric": k, "value": v.value, "std": v.std, "ci95_lo": lo, "ci95_hi": hi,
                         "higher_is_better": self.directions.get(k)})
        return pd.DataFrame(rows, columns=["metric", "value", "std", "ci95_lo", "ci95_hi", "higher_is_better"])

    def table(self) -> str:
        """A plain-text table for the terminal."""
        lines = [f"{'metric':<24} {'value':>12} {'std':>10}  95% CI"]
        for k, v in self.metrics.items():
            std = f"{v.std:.4g}" if v.std is not None else "-"
            ci = f"[{v.ci95[0]:.4g}, {v.ci95[1]:.4g}]" if v.ci95 else "-"
            lines.append(f"{k:<24} {v.value:>12.6g} {std:>10}  {ci}")
        for k, why in self.skipped.items():
            lines.append(f"{k:<24} {'skipped':>12}  ({why})")
        if self.unverified:
            lines.append("NOTE: computed with UNVERIFIED weights; never ranked on a leaderboard")
        return "\n".join(lines)


def protocol_id(result: EvalResult) -> str:
    """"<name>@<version>/n=<N gen>/ref=<reference fingerprint[:12]>" of a result."""
    p = result.protocol
    name, version = p.get("protocol", "unknown"), p.get("protocol_version", "?")
    n_gen = p.get("n_gen", result.samples.get("n", "?"))
    ref = p.get("reference_fingerprint") or result.reference.get("fingerprint") or "none"
    return f"{name}@{version}/n={n_gen}/ref={str(ref)[:12]}"


_NUMBER = (int, float)


def _is_num(v: object, none_ok: bool = False) -> bool:
    return (v is None and none_ok) or (isinstance(v, _NUMBER) and not isinstance(v, bool))


def _metric_ok(v: object) -> bool:
    ci = v.get("ci95") if isinstance(v, dict) else None
    return (isinstance(v, dict) and _is_num(v.get("value"), True) and _is_num(v.get("std"), True)
            and (ci is None or (isinstance(ci, list) and len(ci) == 2 and all(_is_num(x) for x in ci)))
            and isinstance(v.get("details", {}), dict))


def check_result_json(d: object, where: str) -> dict:
    """A parsed result JSON with the fields and types EvalResult relies on, else InputError(where, field)."""
    if not isinstance(d, dict):
        raise InputError(f"{where}: not a genbench result JSON (a JSON {type(d).__name__}, expected an object)")
    for key, required in (("metrics", True), ("protocol", True), ("samples", True), ("reference", True),
                          ("skipped", False), ("directions", False)):
        if (required or key in d) and not isinstance(d.get(key), dict):
            raise InputError(f"{where}: field {key!r} must be a JSON object, got {type(d.get(key)).__name__}")
    bad = [k for k, v in d["metrics"].items() if not _metric_ok(v)]
    if bad:
        raise InputError(f"{where}: metric {bad[0]!r} needs a numeric value, std and ci95 (two numbers or null)")
    if not isinstance(d.get("name"), (str, type(None))):
        raise InputError(f"{where}: field 'name' must be a string or null")
    return d
