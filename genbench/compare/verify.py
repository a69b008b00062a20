"""Record and check the feature rows behind a result, so that a committed baseline pairs and cannot lie.

`save_gated_features` (for `genbench eval --save-features`) writes `R.features.npz` beside R.json with
the rows of every extractor that the protocol's gate rules read, only the roles those metrics need, plus
the rows of the derived inputs they need that those roles cannot rebuild (channel_classes, derived from
the images as the evaluation derived them), and returns the record R.json keeps (file name, size,
sha256). The rows come from the feature cache when the evaluation just put them there, else from
re-opening the result's source (its fingerprint checked).

`attached_features` finds that file beside a result and checks it: the sha256 R.json records, and the
fingerprint and N the file names against R.json's. `check_recorded_values` then recomputes each gated
value from the rows against the shared reference and refuses (InputError, exit 2, naming the metric)
a result whose recorded value disagrees: an edited value, or a result edited to another set's
fingerprint, cannot pass as what it claims. The features file itself cannot be forged without also
matching the hash in R.json; what this does not prove is that R.json and its file were not replaced
together (commit review and the repository's history are what protect those).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from genbench.errors import ConfigError, InputError, MissingInputError
from genbench.eval.derived_rows import conditional, provenance, unrebuildable
from genbench.eval.inputs import row_sources
from genbench.eval.result import EvalResult
from genbench.features.base import FeatureExtractor
from genbench.compare.features_file import FeaturesFile, features_path, read_features, write_features
from genbench.compare.find_features import (FeaturesUnavailable, Finder, GateOptions, Want, dataset_of,
                                            gate_tools, missing_message, set_inputs, space_of)
from genbench.compare.gate import resolve_rules
from genbench.compare.paired import metric_for
from genbench.metrics import MetricConfig, MetricInputs, MetricValue, compute_with_ci
from genbench.seeding import check_seed
from genbench.protocols import Protocol
from genbench.sets.samples import SampleSet

REL_TOL, ABS_TOL = 1e-6, 1e-9  # recorded vs recomputed: float32 rows read back, float64 maths either way


def _plain(metric: str, suffix: str) -> str:
    return metric[: len(metric) - len(suffix)] if suffix else metric


def gated_inputs(protocol: Protocol, metrics: Sequence[str] | None = None) -> dict[str, set[str]]:
    """{extractor: input names} that the gate's metrics read of a compared ("fake") set."""
    names = list(metrics) if metrics else [r.metric for r in protocol.gate_rules]
    if not names:
        raise ConfigError(f"--save-features: protocol {protocol.name} has no gate rules, so no gated features")
    out: dict[str, set[str]] = {}
    for m in names:
        sp = space_of(protocol, m)
        needs = {k.split(".", 1)[1] for k in metric_for(_plain(m, sp.suffix)).needs if k.startswith("fake.")}
        out.setdefault(sp.extractor, set()).update(needs)
    return out


def _derived_rows(finder: Finder, ext: FeatureExtractor, result: EvalResult, needs: set[str]) -> tuple[dict, dict]:
    """({input: rows}, {input: provenance}) of the derived inputs among `needs` that rows of output roles
    cannot rebuild, derived from the samples as the evaluation derived them (under the same set traits)."""
    names = tuple(unrebuildable(ext.name, needs))
    if not names:
        return {}, {}
    traits = (finder.traits(result.reference, "reference") | finder.traits(result.samples, "--samples")
              if conditional(ext.name, names) else frozenset())
    rows = finder.roles(ext, result.samples, "--samples", Want(names, "fake", traits))
    got = {n: rows[n] for n in names if n in rows}
    return got, {n: provenance(ext.name, n, traits) for n in got}


def save_gated_features(result: EvalResult, json_path: str | Path, protocol: Protocol, finder: Finder,
                        extractors: Mapping[str, FeatureExtractor]) -> dict:
    """Write the rows beside `json_path` and put their record into result.samples["features_file"]:
    the output roles the gated metrics read, and the derived inputs they read that those roles cannot give."""
    rows, identities, derived, prov = {}, {}, {}, {}
    for ext, names in gated_inputs(protocol).items():
        raw = finder.raw_of(extractors[ext], result.samples, "--samples")
        rows[ext] = {k: raw[k] for k in sorted(row_sources(ext, names)) if k in raw}
        identities[ext] = extractors[ext].cache_identity()
        derived[ext], prov[ext] = _derived_rows(finder, extractors[ext], result, names)
    fp, n = result.samples.get("fingerprint"), int(result.samples.get("n") or 0)
    record = write_features(features_path(json_path), str(fp), n, rows, identities, derived, prov)
    result.samples["features_file"] = record
    return record


def extractor_width(extractor: str, role: str) -> int | None:
    """The width a registered extractor fixes for a role (None: not registered, or not fixed: pixels)."""
    from genbench.features import load_all
    from genbench.features.base import extractor_class

    load_all()
    cls = extractor_class(extractor)
    return None if cls is None else cls.dims.get(role)


def attached_features(json_path: str | Path, result: EvalResult, what: str) -> FeaturesFile | None:
    """The checked features file a result records (None when it records none).

    InputError when it is recorded but missing, changed (sha256) or computed from other samples."""
    record = result.samples.get("features_file")
    if not record:
        return None
    path = Path(json_path).parent / str(record["path"])
    if not path.is_file():
        raise InputError(f"{what} {json_path}: its features file {path} is missing (commit it beside the "
                         "result, e.g. with Git LFS, or restore it from the CI cache)")
    ff = read_features(path, str(record["sha256"]), extractor_width)
    fp, n = result.samples.get("fingerprint"), result.samples.get("n")
    if ff.fingerprint != fp or ff.n != n:
        raise InputError(f"{what} {json_path}: its features file {path.name} was computed from other samples "
                         f"(fingerprint {ff.fingerprint[:12]}…, N = {ff.n}; the result says {str(fp)[:12]}…, "
                         f"N = {n})")
    return ff


def recompute(side: str, ref: Mapping, metrics: Sequence[str], protocol: Protocol, finder: Finder,
              extractors: Mapping[str, FeatureExtractor], desc: Mapping, dataset: str | None,
              config: MetricConfig | None = None) -> dict[str, MetricValue]:
    """Values of `metrics` for one side's rows against the reference, with their own bootstrap std and 95%
    interval under `config` (default: the protocol's), from the rows alone (FeaturesUnavailable if none)."""
    out: dict[str, MetricValue] = {}
    for m in metrics:
        sp = space_of(protocol, m)
        ext, plain = extractors[sp.extractor], _plain(m, sp.suffix)
        sets = set_inputs(finder, ext, [plain], {side: desc, "reference": ref})
        cls = metric_for(plain)
        arrays = {f"fake.{k}": v for k, v in sets[side].items()} | {f"real.{k}": v for k, v in sets["reference"].items()}
        inputs = MetricInputs(arrays, {"dataset": dataset, "extractor": sp.extractor})
        try:
            vals = compute_with_ci(cls(protocol.params.get(cls.name)), inputs, config or protocol.config)
        except MissingInputError:
            vals = {}
        if plain not in vals:
            raise FeaturesUnavailable(missing_message([m], ext.name, [plain], sets, finder)
                                      or f"metric {m!r} is not computable from the {side}'s features")
        out[m] = vals[plain]
    return out


def check_recorded_values(result: EvalResult, recomputed: Mapping[str, MetricValue], where: str) -> None:
    """InputError naming the first metric whose recorded value is not what its feature rows give."""
    for m, v in recomputed.items():
        mv = result.metrics.get(m)
        if mv is None:
            continue
        rec = float(mv.value)
        if not (math.isfinite(rec) and math.isclose(rec, v.value, rel_tol=REL_TOL, abs_tol=ABS_TOL)):
            raise InputError(f"{where}: metric {m!r} is recorded as {rec:.10g}, but its feature rows give "
                             f"{v.value:.10g}: the result was edited or belongs to other samples; refusing it")


def replace_values(result: EvalResult, recomputed: Mapping[str, MetricValue], intervals: bool = False) -> None:
    """Use the recomputed values (identical within tolerance) so no number is taken from the JSON; with
    `intervals`, the recomputed std and ci95 too (None where the recomputation has none): an edited std or
    ci95 can then neither narrow an interval nor stand in for a missing one."""
    for m, v in recomputed.items():
        if m in result.metrics:
            mv = result.metrics[m]
            std, ci = (v.std, v.ci95) if intervals else (mv.std, mv.ci95)
            result.metrics[m] = MetricValue(float(np.float64(v.value)), std, ci, mv.details)


def verify_side(result: EvalResult, side: str, where: str, ref: Mapping, metrics: Sequence[str],
                protocol: Protocol, finder: Finder, extractors: Mapping[str, FeatureExtractor],
                dataset: str | None, intervals: MetricConfig | None = None) -> None:
    """Recompute one result file's gated values from its rows (under its recorded seed, which a value may
    depend on) and refuse it when they disagree; with `intervals` (the gate's seed and B, never the file's:
    a file must not choose the draw its interval comes from), their own std and 95% intervals too, which
    replace the file's: a decision that reads them (--independent) reads nothing the file merely states."""
    seed = check_seed(result.protocol.get("seed", protocol.config.seed), f"{where}: protocol.seed")
    args = (side, ref, metrics, protocol, finder, extractors, result.samples, dataset)
    try:
        vals = recompute(*args, protocol.config.with_(seed=seed, bootstrap=0))
        check_recorded_values(result, vals, where)
        if intervals is not None:
            vals = recompute(*args, intervals)
    except FeaturesUnavailable as e:
        raise InputError(f"{where}: cannot check its recorded values against its features ({e})") from None
    replace_values(result, vals, intervals is not None)


def gate_seed(protocol: Protocol, seed: int | None) -> int:
    """The seed of the gate's bootstraps: --seed, else the protocol's; never a result file's (issue #27)."""
    return protocol.config.seed if seed is None else seed


def check_files(results: Mapping[str, EvalResult], files: Mapping[str, FeaturesFile], rules: Sequence,
                protocol: Protocol | None, opts: GateOptions, opened: Mapping[str, SampleSet],
                intervals: bool = False) -> None:
    """Verify every side that came with a features file ({"candidate"|"baseline": file}); InputError on the
    first disagreement. Afterwards those sides' gated values (with `intervals`: their std and 95% intervals
    too, under the gate's seed and --bootstrap) are the recomputed ones."""
    if not files:
        return
    if protocol is None:
        raise InputError("a features file can be checked only under a registered protocol; give --protocol")
    metrics = [r.metric for r in resolve_rules(results["candidate"], results["baseline"], list(rules) or None,
                                               protocol)]
    try:
        extractors, finder = gate_tools(protocol, metrics, opts, opened, files)
    except FeaturesUnavailable as e:
        raise InputError(f"cannot check the features files: {e}") from None
    config = protocol.config.with_(seed=gate_seed(protocol, opts.seed), bootstrap=opts.bootstrap) if intervals else None
    for side, ff in files.items():
        r = results[side]
        verify_side(r, side, f"--{side} {ff.path.with_suffix('').with_suffix('.json')}", r.reference, metrics,
                    protocol, finder, extractors, dataset_of(r.reference), config)
