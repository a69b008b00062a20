"""The schema of a result file as the gate reads it (`genbench eval --json`), checked with jsonschema.

A result file is input like any other: it may be hand-edited, truncated or hostile. Before any field is
used, `load_result` checks it against RESULT_SCHEMA (JSON Schema draft 2020-12, validated by the
`jsonschema` package): numbers are JSON numbers (never a bool or a string), metric values and intervals
are finite, names and strings are bounded, a features record names a plain file beside the result and a
64-hex sha256. The parser itself bounds the input: at most MAX_BYTES, at most MAX_DEPTH levels of
nesting, numeric literals of at most MAX_DIGITS characters, and no NaN/Infinity literals. Any failure
is an InputError naming the file and the field (e.g. `metrics.fd.value`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from genbench.errors import InputError
from genbench.eval.result import EvalResult
from genbench.io import no_duplicate_keys
from genbench.seeding import MAX_SEED

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_DIGITS = 40
_NUM = {"type": "number"}
_OPT_NUM = {"type": ["number", "null"]}
_STR = {"type": "string", "maxLength": 4096}
_FEATURES = {
    "type": "object", "required": ["path", "sha256"],
    "properties": {"path": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,200}\.features\.npz$"},
                   "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                   "bytes": {"type": "integer", "minimum": 0},
                   "extractors": {"type": "array", "maxItems": 64, "items": {"type": "string", "maxLength": 100}}},
}
_SET = {
    "type": "object",
    "properties": {"fingerprint": {"type": ["string", "null"], "maxLength": 200},
                   "n": {"type": "integer", "minimum": 0}, "source": {"type": ["string", "null"], "maxLength": 4096},
                   "features_file": _FEATURES},
}
_METRIC = {
    "type": "object", "required": ["value"],
    "properties": {"value": _NUM, "std": _OPT_NUM,
                   "ci95": {"anyOf": [{"type": "null"}, {"type": "array", "minItems": 2, "maxItems": 2,
                                                          "items": _NUM}]},
                   "details": {"type": "object"}},
}
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["metrics", "protocol", "samples", "reference"],
    "properties": {
        "name": {"type": ["string", "null"], "maxLength": 200},
        "metrics": {"type": "object", "maxProperties": 1000, "propertyNames": {"maxLength": 100},
                    "additionalProperties": _METRIC},
        "directions": {"type": "object", "additionalProperties": {"type": ["boolean", "null"]}},
        "skipped": {"type": "object", "additionalProperties": _STR},
        "protocol": {"type": "object", "properties": {
            "protocol": {"type": "string", "maxLength": 200}, "protocol_version": {"type": "string", "maxLength": 50},
            "n_gen": {"type": "integer", "minimum": 0}, "n_ref": {"type": "integer", "minimum": 0},
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED}, "unverified": {"type": "boolean"},
            "reference_fingerprint": {"type": ["string", "null"], "maxLength": 200}}},
        "samples": _SET,
        "reference": _SET,
    },
}


def _number(text: str, kind: type) -> float | int:
    if len(text) > MAX_DIGITS:
        raise ValueError(f"a numeric literal of {len(text)} characters (at most {MAX_DIGITS})")
    return kind(text)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_bounded(text: str) -> Any:
    """json.loads with bounded numeric literals, no NaN/Infinity and no key twice in an object; ValueError /
    RecursionError otherwise."""
    return json.loads(text, parse_float=lambda s: _number(s, float), parse_int=lambda s: _number(s, int),
                      parse_constant=_no_constant, object_pairs_hook=no_duplicate_keys)


def _depth(obj: Any) -> int:
    """Nesting depth of parsed JSON, iteratively."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def _field(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def validate_result_json(data: Any, where: str) -> None:
    """Schema check of parsed result JSON; InputError naming `where` and the first bad field."""
    import jsonschema

    if _depth(data) > MAX_DEPTH:
        raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    validator = jsonschema.Draft202012Validator(RESULT_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise InputError(f"{where}: field {_field(error.absolute_path)}: {_short(error.message)}")
    for name, mv in data["metrics"].items():
        for key in ("value", "std"):
            if mv.get(key) is not None and not math.isfinite(float(mv[key])):
                raise InputError(f"{where}: field metrics.{name}.{key}: not finite")


def load_result(path: str | Path, what: str) -> EvalResult:
    """Read, bound, schema-check and parse a result file; InputError (exit 2) naming `what`, the file and field."""
    p = Path(path)
    where = f"{what} {p}"
    if not p.is_file():
        raise InputError(f"{where}: no such file")
    if p.stat().st_size > MAX_BYTES:
        raise InputError(f"{where}: {p.stat().st_size} bytes; a result file is at most {MAX_BYTES}")
    try:
        data = parse_bounded(p.read_text(encoding="utf-8"))
    except RecursionError:
        raise InputError(f"{where}: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise InputError(f"{where}: not a genbench result JSON ({_short(str(e))})") from None
    validate_result_json(data, where)
    return EvalResult.from_json(data)
