"""EvalOptions: the run settings shared by `genbench.evaluate()` and `genbench.Evaluator`, validated once.

    opts = EvalOptions(seed=1, batch_size=128, bootstrap=100)
    genbench.evaluate(samples, "digits-test", protocol="digits-default", options=opts)
    genbench.evaluate(samples, "digits-test", protocol="digits-default", seed=1, batch_size=128)  # the same

What is scored (samples, reference, protocol, metrics, train/heldout sets, prompts, a model name) stays an
argument of its own; how it is scored lives here. Keyword arguments given beside (or instead of) `options`
override its fields (`with_overrides`); an unknown keyword raises ConfigError naming it and the valid names.
A frozen dataclass of plain values, like nanoGPT's GPTConfig; no code of it is used.
"""
from __future__ import annotations

import difflib
import numbers
import os
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from genbench.errors import ConfigError
from genbench.seeding import check_seed


@dataclass(frozen=True)
class EvalOptions:
    """How an evaluation runs. Every field keeps the default evaluate() has always had.

    extractor: feature extractor when no protocol is named (default inception-v3-tf);
    num_samples / num_reference: use the first N generated / reference images (None: the protocol's N);
    seed: seed of every random choice in the metrics; batch_size: images per extractor batch;
    device: "auto", "cpu", "cuda" or "cuda:K"; weights: extractor name -> weights file;
    allow_unverified: accept weights whose sha256 is not the registry's (results are marked unverified);
    cache_dir: feature cache folder (None: $GENBENCH_HOME/cache, False: no cache); bootstrap: replicates B
    (None: the protocol's, 0: no intervals); prompt_template: CLIP prompts from class labels, with {label};
    value_range: "0,1", "-1,1" or "0,255" for float image arrays; progress: progress on stderr
    (genbench.progress: tqdm bars on a terminal, a line per stage and every 10 s elsewhere).
    """

    extractor: str | None = None
    num_samples: int | None = None
    num_reference: int | None = None
    seed: int = 0
    batch_size: int = 64
    device: str = "auto"
    weights: Mapping[str, str] | None = None
    allow_unverified: bool = False
    cache_dir: Any = None  # str | os.PathLike | None | False, or a FeatureCache (genbench.Evaluator's own)
    bootstrap: int | None = None
    prompt_template: str | None = None
    value_range: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        _check_int("batch_size", self.batch_size, minimum=1)
        check_seed(self.seed)
        for name in ("num_samples", "num_reference"):
            _check_int(name, getattr(self, name), minimum=1, optional=True)
        _check_int("bootstrap", self.bootstrap, minimum=0, optional=True)
        for name in ("allow_unverified", "progress"):
            _check_bool(name, getattr(self, name))
        for name in ("extractor", "device", "prompt_template", "value_range"):
            _check_str(name, getattr(self, name), optional=name != "device")
        if self.weights is not None and not isinstance(self.weights, Mapping):
            raise ConfigError(f"weights must be a dict of extractor name -> file, got {self.weights!r}")
        _check_cache_dir(self.cache_dir)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def with_overrides(self, overrides: Mapping[str, Any], where: str) -> "EvalOptions":
        """A copy with `overrides` applied; an unknown name raises ConfigError naming it and the valid ones."""
        for key in overrides:
            if key not in self.names():
                raise ConfigError(_unknown(key, where, self.names()))
        return replace(self, **overrides) if overrides else self

    def refuse(self, names: tuple[str, ...], where: str, why: str) -> None:
        """ConfigError if any of `names` differs from its default: `where` cannot honour it (`why`)."""
        default = EvalOptions()
        for name in names:
            if getattr(self, name) != getattr(default, name):
                raise ConfigError(f"{where}: {name} is evaluate()'s only ({why}); leave it {getattr(default, name)!r}")


def resolve_options(options: EvalOptions | None, overrides: Mapping[str, Any], where: str) -> EvalOptions:
    """`options` (default EvalOptions()) with the keyword overrides of `where` (e.g. "evaluate()") applied."""
    if options is not None and not isinstance(options, EvalOptions):
        raise ConfigError(f"{where}: options must be a genbench.EvalOptions, got {type(options).__name__}")
    return (options or EvalOptions()).with_overrides(overrides, where)


def _unknown(key: str, where: str, valid: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"{where}: unknown keyword argument {key!r}{hint}; the options are: {', '.join(valid)}"


def _check_int(name: str, value: Any, minimum: int | None = None, optional: bool = False) -> None:
    if value is None and optional:
        return
    bad = not isinstance(value, numbers.Integral) or isinstance(value, bool) or (minimum is not None and value < minimum)
    if bad:
        kind = {None: "an int", 0: "an int >= 0", 1: "a positive int"}[minimum]
        raise ConfigError(f"{name} must be {kind}{' or None' if optional else ''}, got {value!r}")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")


def _check_str(name: str, value: Any, optional: bool = True) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise ConfigError(f"{name} must be a string{' or None' if optional else ''}, got {value!r}")


def _check_cache_dir(value: Any) -> None:
    if value is None or value is False or isinstance(value, (str, os.PathLike)) or hasattr(value, "get_or_compute"):
        return
    raise ConfigError(f"cache_dir must be a folder, None (the default cache) or False (no cache), got {value!r}")
