"""genbench: evaluate and benchmark image generative models with exact protocols and confidence intervals.

The public API is `genbench.evaluate(...)`, `genbench.Leaderboard`, `genbench.SampleSet`,
`genbench.open_samples` and `genbench.GenbenchError`. `import genbench` stays light: `evaluate` is a thin
function that imports the evaluation path on first call, and `Leaderboard` is loaded on first access.

The submodule `genbench.evaluate` has the same name as the function. Importing a submodule makes Python
set it as an attribute of its package, which would replace the function by the module after the first
call ("'module' object is not callable" on the second). The package's module class below keeps the
public callables in place; the submodule stays importable as usual (`from genbench.evaluate import ...`,
`importlib.import_module("genbench.evaluate")`, `sys.modules`).
"""
from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"

from genbench.errors import GenbenchError  # noqa: E402
from genbench.samples import SampleSet, open_samples  # noqa: E402

__all__ = ["GenbenchError", "SampleSet", "open_samples", "__version__", "evaluate", "Evaluator", "Leaderboard"]


def evaluate(*args: Any, **kwargs: Any):
    """Evaluate samples against a reference; see `genbench.evaluate.evaluate` for the arguments."""
    from genbench.evaluate import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


_PUBLIC_CALLABLES = frozenset({"evaluate"})


class _Package(types.ModuleType):
    """The genbench package: a submodule import never replaces a public function of the same name."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _PUBLIC_CALLABLES and isinstance(value, types.ModuleType) and name in self.__dict__:
            return  # the import system registering the submodule `genbench.<name>`: keep the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):  # lazy: keep `import genbench` light
    if name == "Evaluator":
        from genbench.evaluator import Evaluator

        return Evaluator
    if name == "Leaderboard":
        from genbench.leaderboard import Leaderboard

        return Leaderboard
    raise AttributeError(f"module 'genbench' has no attribute {name!r}")
