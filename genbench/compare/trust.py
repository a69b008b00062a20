"""Which baseline numbers a gate decision would take on a file's word, and how the gate says so.

The rule (issue #27, class 1): a decision reads only numbers recomputed from checked rows. A baseline
scored here from its samples, one whose features file checked out, or one whose rows were found by its
fingerprint (the paired comparison) gives the decision nothing it did not recompute. A baseline result
JSON with no features file, or a leaderboard row (rows hold no feature rows), gives the independent
fallback its value, std, 95% interval, N and seed as written: the gate refuses it unless the caller
passes TRUST_FLAG, and then it lists every value it took on trust (stdout and --json).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from genbench.eval.result import EvalResult
from genbench.protocols import Protocol

TRUST_FLAG = "--trust-baseline-values"


def baseline_kind(spec: str) -> str:
    """How --baseline names its values: "result file" (a .json) or "leaderboard row" (a model name)."""
    return "result file" if spec.endswith(".json") else "leaderboard row"


def refusal(spec: str, board: str, why: str) -> str:
    """The one-line refusal of a baseline whose values nothing can recompute."""
    kind = baseline_kind(spec)
    where = f"--baseline {spec}" + ("" if kind == "result file" else f" (on --board {board})")
    has = ("records no features file" if kind == "result file"
           else "is a leaderboard row, which holds no feature rows")
    return (f"{where}: {has} and its rows cannot be found ({why}), so the decision would read its values "
            f"on the file's word; a decision reads only numbers recomputed from checked rows: record the "
            f"baseline with `genbench eval ... --json R.json --save-features`, give the baseline's samples, "
            f"or pass {TRUST_FLAG} to take its values on trust")


def _recorded_spec(desc: Mapping) -> str:
    """The source a result records, as genbench.compare.find_features reopens it (no `dataset:`, no `[:n]`)."""
    import re

    source = str(desc.get("source") or "")
    return re.sub(r"\[:\d+\]$", "", source[len("dataset:"):] if source.startswith("dataset:") else source)


def rows_missing(desc: Mapping, protocol: Protocol, metrics: Sequence[str], cache_root: object,
                 weights: Mapping[str, str], allow_unverified: bool) -> str | None:
    """Why a result's rows surely cannot be found, checked before any scoring (None: they may be found, and
    pairing will tell): its recorded source does not exist, and the cache holds no entry for one extractor."""
    from pathlib import Path

    from genbench.compare.find_features import space_of
    from genbench.data import DATASETS
    from genbench.eval.inputs import features_key
    from genbench.features.cache import FeatureCache
    from genbench.features.identity import extractor_identity

    spec, fp, n = _recorded_spec(desc), desc.get("fingerprint"), desc.get("n")
    if (spec and (spec in DATASETS or Path(spec).exists())) or not fp or not isinstance(n, int):
        return None
    cache = FeatureCache(cache_root)  # type: ignore[arg-type]
    for name in sorted({space_of(protocol, m).extractor for m in metrics}):
        ident = extractor_identity(name, weights.get(name), allow_unverified)
        if ident is not None and (cache.root is None or not cache.path(features_key(str(fp), n, ident)).exists()):
            return (f"its recorded source {spec!r} does not exist here and the feature cache holds no "
                    f"{name} rows for it")
    return None


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def trusted_values(result: EvalResult, metrics: Sequence[str]) -> dict:
    """{"metrics": {metric: {value, std, ci95}}, "n": N, "seed": seed}: what the decision read unchecked."""
    out: dict = {}
    for m in metrics:
        mv = result.metrics.get(m)
        if mv is not None:
            ci = None if mv.ci95 is None else [float(mv.ci95[0]), float(mv.ci95[1])]
            out[m] = {"value": _number(mv.value), "std": _number(mv.std), "ci95": ci}
    proto = result.protocol or {}
    return {"metrics": out, "n": proto.get("n_gen", (result.samples or {}).get("n")), "seed": proto.get("seed")}


def trust_record(spec: str, why: str, result: EvalResult, metrics: Sequence[str]) -> dict:
    """What --json says was taken on trust: the side, its --baseline, why nothing recomputed it, the values."""
    return {"side": "baseline", "source": spec, "kind": baseline_kind(spec), "why": why,
            **trusted_values(result, metrics)}


def _g(x: float | None) -> str:
    return "none" if x is None or not math.isfinite(x) else f"{x:.6g}"


def trust_lines(record: Mapping) -> list[str]:
    """Lines naming every value taken on trust (the caller escapes them for the terminal)."""
    head = (f"taken on trust ({TRUST_FLAG}), from --baseline {record['source']} ({record['kind']}; "
            f"not recomputed: {record['why']}):")
    lines = [head]
    for m, v in record["metrics"].items():
        ci = "none" if v["ci95"] is None else f"[{_g(v['ci95'][0])}, {_g(v['ci95'][1])}]"
        lines.append(f"  {m}: value {_g(v['value'])}, std {_g(v['std'])}, ci95 {ci}")
    lines.append(f"  N = {record['n']}, seed {record['seed']}")
    return lines
