"""`genbench run`: train -> generate -> evaluate -> leaderboard -> report, for a built-in suite.

Each stage is resumable: reference_models.train reuses or resumes a checkpoint whose config matches;
a sample set is reused when its manifest names the same checkpoint hash, seeds and sampler options;
features come from the content-addressed cache; a per-model result is reused when its sample set and
protocol are unchanged.
"""
from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from genbench.version import __version__

from genbench import distributed
from genbench.bench.baselines import noise_baseline, real_baseline
from genbench.sets.export import export_npz
from genbench.eval.result import EvalResult
from genbench.sets.samples import SampleSet, open_samples
from genbench.bench.suites import SUITES, ModelSpec, Suite


@dataclass(frozen=True)
class RunOptions:
    preset: str = "quick"
    device: str = "auto"
    out: Path = Path("runs")
    board_dir: Path = Path("leaderboards")
    num_samples: int | None = None
    batch_size: int = 64
    seed: int = 0
    progress: bool = True
    report: bool = True
    log: bool = True
    bootstrap: int | None = None  # None: the protocol's B (the tiny preset uses 20)


@dataclass
class SuiteOutcome:
    board_path: Path
    results: dict[str, EvalResult]
    timings: dict[str, float] = field(default_factory=dict)
    report_path: Path | None = None


class _Stages:
    """Per-stage wall time, summed over models, printed as it goes."""

    def __init__(self, log: bool) -> None:
        self.times: dict[str, float] = {}
        self.log = log

    @contextmanager
    def stage(self, name: str, what: str) -> Iterator[None]:
        if self.log:
            print(f"[{name}] {what} ...", flush=True)
        t0 = time.perf_counter()
        yield
        dt = time.perf_counter() - t0
        self.times[name] = self.times.get(name, 0.0) + dt
        if self.log:
            print(f"[{name}] {what}: {dt:.1f}s", flush=True)


def board_name(suite: Suite, preset: str, n: int) -> str:
    base = suite.name if preset != "tiny" else f"{suite.name}-tiny"
    return base if n == suite.num_samples[preset] else f"{base}-n{n}"


def _train(spec: ModelSpec, suite: Suite, opts: RunOptions) -> Path:
    import reference_models

    out = opts.out / _run_dir(suite, opts) / spec.name
    steps = suite.tiny_steps if opts.preset == "tiny" else None
    preset = "quick" if opts.preset == "tiny" else opts.preset
    distributed.guarded(lambda: distributed.is_main() and reference_models.train(  # torchrun: rank 0 trains
        spec.family, dataset=spec.dataset, preset=preset, out=out, seed=opts.seed, device=opts.device,
        steps=steps, overrides=dict(spec.overrides), progress=opts.progress))
    return out


def _run_dir(suite: Suite, opts: RunOptions) -> str:
    """The suite's work folder: a pinned process (genbench.reproducible) never reuses an unpinned process's
    checkpoints, samples or results, nor the other way round."""
    return f"{suite.name}-{opts.preset}" + ("-pinned" if _pinned() else "")


def _pinned() -> bool:
    from genbench.numerics import reproducibility_record
    from genbench.reproducible import is_pinned

    return is_pinned(reproducibility_record()["class"])


def _sample_key(checkpoint_sha: str, n: int, options: dict) -> str:
    blob = json.dumps({"checkpoint": checkpoint_sha, "n": n, "options": options}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _generate(spec: ModelSpec, model_dir: Path, n: int, opts: RunOptions) -> SampleSet:
    import reference_models

    path = model_dir / f"samples-{n}.npz"
    model = reference_models.load(model_dir, device=opts.device)
    options = dict(spec.sample_options)
    key = _sample_key(model.checkpoint_hash, n, options)
    if path.exists():
        cached = open_samples(str(path))
        if cached.manifest.get("sample_key") == key:
            return cached
    arr, labels = distributed.generate_sharded(  # torchrun: each rank samples its block of seeds
        list(range(n)), lambda part: _sample(model, part, opts, options), model.config.micro_batch,
        labelled=model.conditional)
    samples = SampleSet.from_array(arr, layout="NCHW", source=f"model:{spec.name}", labels=labels,
                                   manifest={"seeds": list(range(n)), "sample_key": key, "model": spec.name,
                                             "family": spec.family, "checkpoint_sha256": model.checkpoint_hash,
                                             "sample_options": options, "conditional": model.conditional,
                                             "sampler_settings": model.sampler_settings(**options)})
    export_npz(samples, path)  # rank 0 writes; the others wait for it
    distributed.barrier()
    return open_samples(str(path))


def _sample(model, seeds: list[int], opts: RunOptions, options: dict) -> tuple[np.ndarray, list[int] | None]:
    images, labels = model.sample_labelled(seeds, batch_size=opts.batch_size, progress=opts.progress, **options)
    return images.cpu().numpy(), labels


def _evaluate(name: str, samples: SampleSet, suite: Suite, n: int, opts: RunOptions, where: Path,
              timings: dict[str, float]) -> EvalResult:
    from genbench.eval.options import EvalOptions
    from genbench.eval.run import evaluate
    from genbench.numerics import reproducibility_record
    from genbench.protocols import PROTOCOLS

    path = where / f"result-{n}.json"
    bootstrap = opts.bootstrap if opts.bootstrap is not None else (20 if opts.preset == "tiny" else None)
    repro = reproducibility_record()
    ident = json.dumps([samples.fingerprint, PROTOCOLS.get(suite.protocol).record(), opts.seed, bootstrap,
                        __version__, repro["class"]], sort_keys=True)
    key = hashlib.sha256(ident.encode()).hexdigest()
    if path.exists():
        old = EvalResult.load(path)
        if old.protocol.get("run_key") == key:
            return old
    options = EvalOptions(num_samples=n, seed=opts.seed, batch_size=opts.batch_size, device=opts.device,
                          bootstrap=bootstrap, cache_dir=opts.out / "cache", progress=opts.progress)
    res = evaluate(samples, suite.reference, protocol=suite.protocol, train=suite.train, name=name, timings=timings,
                   options=options)
    res.protocol["run_key"] = key
    res.protocol["reproducibility"] = repro  # beside `cpu`: the pins in force (genbench.reproducible)
    if "sampler_settings" in samples.manifest:  # a reference model's sampling: guidance scale, steps, ...
        res.protocol["sampling"] = {"conditional": samples.manifest.get("conditional"),
                                    **samples.manifest["sampler_settings"]}
    res.save(path)
    return res


def _baselines(suite: Suite, n: int) -> dict[str, SampleSet]:
    ref = open_samples(suite.reference)
    return {"baseline:real-vs-real": real_baseline(suite.real_baseline, n),
            "baseline:noise": noise_baseline(ref, n)}


def run_suite(name: str, opts: RunOptions) -> SuiteOutcome:
    from genbench.board.leaderboard import Leaderboard

    suite = SUITES.get(name)
    n = opts.num_samples or suite.n(opts.preset)
    st = _Stages(opts.log)
    results: dict[str, EvalResult] = {}
    sample_sets: dict[str, SampleSet] = {}
    for spec in suite.models:
        with st.stage("train", f"{suite.name}/{spec.name}"):
            model_dir = _train(spec, suite, opts)
        with st.stage("generate", f"{spec.name}: {n} samples"):
            sample_sets[spec.name] = _generate(spec, model_dir, n, opts)
        with st.stage("evaluate", f"{spec.name}"):
            results[spec.name] = _evaluate(spec.name, sample_sets[spec.name], suite, n, opts, model_dir, st.times)
    for bname, samples in _baselines(suite, n).items():
        where = opts.out / _run_dir(suite, opts) / bname.replace(":", "-")
        with st.stage("evaluate", bname):
            results[bname] = _evaluate(bname, samples, suite, n, opts, where, st.times)
        sample_sets[bname] = samples
    board_path = opts.board_dir / f"{board_name(suite, opts.preset, n)}.jsonl"
    with st.stage("render", str(board_path)):
        board = Leaderboard.load(board_path)
        board.set_results(results)
        _write_ranks(board, opts)
        board.render_files()
        report = _report(board, sample_sets, suite, opts) if opts.report else None
    distributed.barrier()  # torchrun: rank 0 has written the board and report before anyone reads them
    return SuiteOutcome(board_path, results, st.times, report)


def _write_ranks(board, opts: RunOptions) -> None:
    """Paired rank groups from the run's cached features (rank 0 only: it writes the board)."""
    from genbench.board.rank_file import write_ranks

    if distributed.is_main():
        write_ranks(board, [opts.out / "cache"])


def _report(board, sample_sets: dict[str, SampleSet], suite: Suite, opts: RunOptions) -> Path:
    from genbench.board.report import write_report

    path = opts.out / _run_dir(suite, opts) / "report.html"
    shown = {k: s.read(0, 64) if s.kind == "images" else s.load() for k, s in sample_sets.items()}
    write_report(board, path, samples=shown, extra=_per_class(sample_sets, suite, opts))
    return path


def _per_class(sample_sets: dict[str, SampleSet], suite: Suite, opts: RunOptions) -> dict:
    """Per-class FD / precision / recall (genbench.eval.per_class, digits classifier) for suites that ask for it."""
    from genbench.eval.per_class import per_class_for_samples

    images = {k: s for k, s in sample_sets.items() if s.kind == "images"}
    if not suite.per_class or not images:
        return {}
    return {"per_class": per_class_for_samples(images, suite.reference, device=opts.device,
                                               cache_dir=opts.out / "cache")}
