"""EvalOptions: one validated set of run settings for evaluate() and Evaluator, and narrow public signatures.

The signature test counts every parameter a caller can name -- positional, keyword-only, *args and
**kwargs each count one -- except a method's `self` / `cls`. Public: a function or method whose name has
no leading underscore (plus `__init__` of a public class), in a module or class whose name has none.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import genbench
from genbench import EvalOptions
from genbench.errors import ConfigError

PACKAGE = Path(genbench.__file__).resolve().parent
MAX_PARAMS = 12


def _count(fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> int:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs] + [x.arg for x in (a.vararg, a.kwarg) if x]
    if is_method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names)


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def _wide(tree: ast.Module, where: str) -> list[str]:
    out = []
    for node in tree.body:
        bodies = [(node, False)] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            bodies = [(n, True) for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for fn, is_method in bodies:
            n = _count(fn, is_method)
            if _public(fn.name) and n > MAX_PARAMS:
                out.append(f"{where}:{fn.lineno} {fn.name} has {n} parameters")
    return out


def test_no_public_function_has_more_than_12_parameters():
    wide = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            continue
        wide += _wide(ast.parse(path.read_text(encoding="utf-8")), str(rel))
    assert not wide, "\n".join(wide)


@pytest.mark.parametrize("field, value, message", [
    ("batch_size", 0, "batch_size must be a positive int"),
    ("batch_size", True, "batch_size must be a positive int"),
    ("batch_size", 2.5, "batch_size must be a positive int"),
    ("seed", "1", "seed must be an int"),
    ("seed", False, "seed must be an int"),
    ("num_samples", 0, "num_samples must be a positive int or None"),
    ("num_reference", -3, "num_reference must be a positive int or None"),
    ("bootstrap", -1, "bootstrap must be an int >= 0 or None"),
    ("allow_unverified", 1, "allow_unverified must be True or False"),
    ("progress", "yes", "progress must be True or False"),
    ("device", None, "device must be a string"),
    ("value_range", (0, 1), "value_range must be a string or None"),
    ("weights", ["a"], "weights must be a dict"),
    ("cache_dir", True, "cache_dir must be a folder"),
])
def test_invalid_options_name_the_argument(field, value, message):
    with pytest.raises(ConfigError, match=message):
        EvalOptions(**{field: value})


def test_valid_options_keep_their_values():
    opts = EvalOptions(seed=np.int64(3), bootstrap=0, cache_dir=False, weights={"pixels": "w.pt"})
    assert opts.seed == 3 and opts.bootstrap == 0 and opts.cache_dir is False
    with pytest.raises(AttributeError):
        opts.seed = 4  # frozen


def test_an_unknown_keyword_is_named_with_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown keyword argument 'batch_sise' \(did you mean 'batch_size'\?\)"
                                          r".*seed, batch_size"):
        genbench.evaluate("digits-test", "digits-test", batch_sise=8)
    with pytest.raises(ConfigError, match="Evaluator: unknown keyword argument 'sed'"):
        genbench.Evaluator(reference="digits-test", extractor="pixels", metrics="fd", sed=1)


def test_options_must_be_eval_options():
    with pytest.raises(ConfigError, match="options must be a genbench.EvalOptions"):
        genbench.evaluate("digits-test", "digits-test", options={"seed": 1})


def test_evaluator_refuses_what_only_evaluate_can_honour():
    with pytest.raises(ConfigError, match="num_samples is evaluate\\(\\)'s only"):
        genbench.Evaluator(reference="digits-test", extractor="pixels", metrics="fd", num_samples=10)


def _values(result) -> dict:
    return {k: (v.value, v.ci95) for k, v in result.metrics.items()}


def test_the_same_result_through_options_and_keywords():
    kw = dict(extractor="pixels", metrics="fd", num_samples=60, num_reference=80, seed=2, bootstrap=5,
              batch_size=16, device="cpu", cache_dir=False)
    by_keywords = genbench.evaluate("digits", "digits-test", **kw)
    opts = EvalOptions(**{k: v for k, v in kw.items() if k != "metrics"})
    by_options = genbench.evaluate("digits", "digits-test", metrics="fd", options=opts)
    mixed = genbench.evaluate("digits", "digits-test", metrics="fd", options=EvalOptions(seed=9, batch_size=16),
                              **{k: v for k, v in kw.items() if k not in ("metrics", "batch_size")})
    assert _values(by_keywords) == _values(by_options) == _values(mixed)
    assert by_keywords.protocol["seed"] == by_options.protocol["seed"] == mixed.protocol["seed"] == 2


def test_the_evaluator_takes_options_too():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    results = []
    for how in ({"options": EvalOptions(bootstrap=5, batch_size=16, device="cpu")},
                {"bootstrap": 5, "batch_size": 16, "device": "cpu"}):
        ev = genbench.Evaluator(reference="digits-test", extractor="pixels", metrics="fd", num_reference=80, **how)
        ev.update(images)
        results.append(_values(ev.compute()))
    assert results[0] == results[1]
