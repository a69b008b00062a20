"""Metric base class and the metric registry.

A metric is pure maths over inputs the evaluator gathers (the input vocabulary is documented in
genbench.metrics.values). Each metric owns its settings as a frozen dataclass `Params` (class
attribute; an empty one when it has no knobs): `cls(params)` builds it, `cls()` uses the defaults.
Run-wide settings (seed, bootstrap B, device, tiling) come in a MetricConfig at call time.

Confidence intervals are not the metric's business: genbench.metrics.bootstrap.compute_with_ci wraps
`point` (and the optional fast path `replicates`). `compute` only delegates to it.
"""
from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError, NotEnoughSamplesError
from genbench.metrics.bootstrap import IntervalUnavailable, compute_with_ci
from genbench.metrics.functional.counts import MAX_POOL, Pool, Resample
from genbench.metrics.values import MetricConfig, MetricInputs, MetricValue, as_value
from genbench.registry import Registry

__all__ = ["METRICS", "Metric", "MetricConfig", "MetricInputs", "MetricValue", "NoParams"]


@dataclass(frozen=True)
class NoParams:
    """The settings of a metric without knobs."""


class Metric(abc.ABC):
    """Set-level metric. Subclasses implement `point`; `compute` adds bootstrap std and 95% CI."""

    name: ClassVar[str]
    Params: ClassVar[type] = NoParams  # a frozen dataclass; its defaults are PROTOCOLS.md's
    outputs: ClassVar[tuple[str, ...]]  # result names, e.g. ("precision", "recall")
    higher_is_better: ClassVar[Mapping[str, bool | None]]  # per output; None = no direction (diagnostic)
    needs: ClassVar[tuple[str, ...]]  # input keys, e.g. ("fake.embedding", "real.embedding")
    version: ClassVar[str] = "1"
    definition: ClassVar[str] = ""
    matches: ClassVar[str] = ""  # the reference code this metric's default reproduces (repository + file)
    differences: ClassVar[tuple[str, ...]] = ()  # known differences from that code and from its peers
    units: ClassVar[Mapping[str, str]] = {}  # per output, where values are scaled (kid: "×10³")
    bootstrap_sets: ClassVar[tuple[str, ...]] = ("fake", "real")  # () = no bootstrap (diagnostics)
    paired: ClassVar[bool] = False  # True: row i of every bootstrap set belongs together; resample one index
    min_samples: ClassVar[int] = 2
    # outputs whose bootstrap replicates (the metric's own interval and the paired comparison) come from row
    # counts over the pools (`count_batch`: no [N, N] pass per replicate); every other output runs `point` on
    # each materialised resample
    count_replicates: ClassVar[tuple[str, ...]] = ()
    count_pool_limit: ClassVar[int | None] = MAX_POOL  # largest pool the count formulas take (None: any)
    domains: ClassVar[Mapping[str, tuple[float, float]]] = {}  # per output, where values must lie (intervals cut)
    # outputs two sets are compared on directly, by a test with its own exact interval, instead of as the
    # difference m(A) − m(B) (the gate and the planner call `compare_sets`; class_share is one)
    direct_comparisons: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Any = None) -> None:
        if params is None:
            params = self.Params()
        elif not isinstance(params, self.Params):
            raise ConfigError(f"metric {self.name!r}: params must be a {type(self).__name__}.Params, got "
                              f"{type(params).__name__}")
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    def params_record(self) -> dict:
        """This metric's settings as JSON-ready values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self.params).items()}

    def available(self, inputs: MetricInputs) -> str | None:
        """None if computable, else the reason it is skipped."""
        missing = [k for k in self.needs if not inputs.has(k)]
        return f"needs {', '.join(missing)}" if missing else None

    def check_samples(self, inputs: MetricInputs, minimum: int | None = None,
                      keys: tuple[str, ...] | None = None) -> None:
        """Raise NotEnoughSamplesError (naming the metric and the row counts) if a needed array is too short."""
        need = self.min_samples if minimum is None else minimum
        counts = {k: len(inputs.get(k)) for k in (self.needs if keys is None else keys) if inputs.has(k)}
        if any(n < need for n in counts.values()):
            got = ", ".join(f"{k}={n}" for k, n in counts.items())
            raise NotEnoughSamplesError(f"metric {self.name!r} needs at least {need} samples per set; got {got}")

    def resample_sizes(self, inputs: MetricInputs) -> dict[str, int]:
        """Rows per set the bootstrap resamples: each of bootstrap_sets that has a row array in `needs`."""
        sizes: dict[str, int] = {}
        for s in self.bootstrap_sets:
            key = next((k for k in self.needs if k.startswith(s + ".") and inputs.has(k)), None)
            if key is not None:
                sizes[s] = len(inputs.get(key))
        return sizes

    @abc.abstractmethod
    def point(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, float | MetricValue]:
        """The metric on the full sets: {output: value} (a MetricValue where it has its own std)."""

    def replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                   config: MetricConfig) -> list[dict[str, float]]:
        """Bootstrap replicate values, one dict per draw ({set: row indices}): from row counts (`count_batch`)
        where the metric declares them for every output and the pools fit, else `point` on each
        materialised resample (`materialised_replicates`)."""
        if draws and self.counts_declared(inputs) and not self.counts_apply(inputs):
            sizes = ", ".join(f"{k}={len(inputs.get(k))}" for k in ("fake.embedding", "real.embedding"))
            raise IntervalUnavailable(f"the row-count bootstrap of {self.name} holds each pool's [P, P] distances, "
                                      f"P <= {self.count_pool_limit}; got {sizes} (a full recomputation per "
                                      "replicate would cost B times the point value)")
        if draws and self.counts_apply(inputs):
            pools = {s: Pool.of(inputs.get(f"{s}.embedding")) for s in ("fake", "real")}
            tasks = [tuple(Resample(pools[s], _counts(d.get(s), len(pools[s]))) for s in ("fake", "real"))
                     for d in draws]
            return self.count_batch(self.count_replicates, tasks, config)
        return self.materialised_replicates(inputs, draws, config)

    def materialised_replicates(self, inputs: MetricInputs, draws: Sequence[Mapping[str, np.ndarray]],
                                config: MetricConfig) -> list[dict[str, float]]:
        """`point` on each materialised resample (the definition every fast path is checked against)."""
        return [{k: float(as_value(v).value) for k, v in self.point(inputs.subset(d), config).items()}
                for d in draws]

    def counts_declared(self, inputs: MetricInputs) -> bool:
        """Whether this metric computes its replicates from row counts here: it declares them for every output
        and reads only the two sets' embedding rows, both given as rows."""
        keys = ("fake.embedding", "real.embedding")
        return (set(self.count_replicates) == set(self.outputs) and set(self.needs) == set(keys)
                and all(inputs.has(k) for k in keys))

    def counts_apply(self, inputs: MetricInputs) -> bool:
        """counts_declared, and both pools fit `count_pool_limit`."""
        keys = ("fake.embedding", "real.embedding")
        return self.counts_declared(inputs) and (
            self.count_pool_limit is None or all(len(inputs.get(k)) <= self.count_pool_limit for k in keys))

    def count_batch(self, outputs: Sequence[str], tasks: Sequence[tuple["Resample", "Resample"]],
                    config: MetricConfig) -> list[dict[str, float]]:
        """{output: value} for each (fake, real) replicate in `tasks`, in order. Default: `count_values` one
        task after the other (a pool keeps its last reference draw, so consecutive tasks against one draw
        share it); override to treat all replicates at once."""
        return [self.count_values(outputs, f, r, config) for f, r in tasks]

    def materialised_values(self, outputs: Sequence[str], fake: "Resample", real: "Resample",
                            config: MetricConfig) -> dict[str, float]:
        """What `count_values` must equal: by default `point` on the materialised resample."""
        inputs = MetricInputs({"fake.embedding": fake.pool.x[fake.rows()], "real.embedding": real.pool.x[real.rows()]})
        vals = self.point(inputs, config.with_(bootstrap=0))
        return {o: float(as_value(vals[o]).value) for o in outputs}

    def count_values(self, outputs: Sequence[str], fake: "Resample", real: "Resample",
                     config: MetricConfig) -> dict[str, float]:
        """{output: value} for `outputs` (among count_replicates) on one replicate of each set, given as row
        counts over a pool of embedding rows (genbench.metrics.functional.counts). Override with formulas on
        the counts whose values equal `materialised_values`."""
        return self.materialised_values(outputs, fake, real, config)

    def compute(self, inputs: MetricInputs, config: MetricConfig) -> dict[str, MetricValue]:
        return compute_with_ci(self, inputs, config)

    def compare_sets(self, output: str, a: MetricInputs, b: MetricInputs) -> MetricValue:
        """A direct comparison of set A with set B (both given as "fake.*" inputs) on one of
        `direct_comparisons`: value and ci95 of the change, details naming what the two sides hold."""
        raise ConfigError(f"metric {self.name!r} compares no output directly ({output!r})")

    def compare_recorded(self, output: str, a: MetricValue, b: MetricValue) -> MetricValue | None:
        """The same comparison from two results' recorded values (their details), None when they lack it."""
        return None


def _counts(rows: np.ndarray | None, n: int) -> np.ndarray:
    """[n] float64 counts of one set's replicate from its drawn rows (None: the set is not resampled)."""
    return np.ones(n) if rows is None else np.bincount(rows, minlength=n).astype(np.float64)


METRICS: Registry[type[Metric]] = Registry("metric")
