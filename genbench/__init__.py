"""genbench: evaluate and benchmark image generative models with exact protocols and confidence intervals."""
from __future__ import annotations

__version__ = "0.1.0"

from genbench.errors import GenbenchError  # noqa: E402
from genbench.samples import SampleSet, open_samples  # noqa: E402

__all__ = ["GenbenchError", "SampleSet", "open_samples", "__version__", "evaluate", "Evaluator", "Leaderboard"]


def __getattr__(name: str):  # lazy: keep `import genbench` light
    if name == "evaluate":
        from genbench.evaluate import evaluate

        return evaluate
    if name == "Evaluator":
        from genbench.evaluator import Evaluator

        return Evaluator
    if name == "Leaderboard":
        from genbench.leaderboard import Leaderboard

        return Leaderboard
    raise AttributeError(name)
