"""genbench: evaluate and benchmark image generative models with exact protocols and confidence intervals.

The public API is `genbench.evaluate(...)`, `genbench.Evaluator`, `genbench.EvalOptions` (the run settings
both share), `genbench.Leaderboard`, `genbench.SampleSet`, `genbench.open_samples` and `genbench.GenbenchError`. `import genbench` stays light
(no numpy, torch or scipy; the CLI's `--help` relies on it): `evaluate` imports the evaluation path
(`genbench.eval.run`) on first call, and `SampleSet`, `open_samples`, `Evaluator`, `EvalOptions` and
`Leaderboard` are loaded on first access.
"""
from __future__ import annotations

from typing import Any

from genbench.errors import GenbenchError  # noqa: E402
from genbench.version import __version__  # noqa: E402

__all__ = ["GenbenchError", "SampleSet", "open_samples", "__version__", "evaluate", "Evaluator", "EvalOptions",
           "Leaderboard"]


def evaluate(*args: Any, **kwargs: Any):
    """Evaluate samples against a reference; see `genbench.eval.run.evaluate` for the arguments."""
    from genbench.eval.run import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def __getattr__(name: str):  # lazy: keep `import genbench` light
    if name in ("SampleSet", "open_samples"):
        from genbench.sets import samples

        return getattr(samples, name)
    if name == "Evaluator":
        from genbench.eval.stream import Evaluator

        return Evaluator
    if name == "EvalOptions":
        from genbench.eval.options import EvalOptions

        return EvalOptions
    if name == "Leaderboard":
        from genbench.board.leaderboard import Leaderboard

        return Leaderboard
    raise AttributeError(f"module 'genbench' has no attribute {name!r}")
