"""diffusers pipelines as sample sources: DDPMPipeline, DDIMPipeline and LDMPipeline from a local folder.

Per-sample seeds, as diffusers recommends for reproducible batches: seed k gets its own CPU
`torch.Generator().manual_seed(k)`, and the pipeline gets the list, so diffusers' `randn_tensor` draws row k
of the initial noise (and of DDPM's / DDIM-with-eta's step noise, which `scheduler.step(generator=...)`
draws the same way) from seed k alone. Image k is then what `pipe(batch_size=1, generator=
torch.Generator().manual_seed(k))` gives. Every call runs exactly `batch_size` rows (the last call padded),
so a sample never depends on which seeds share its batch, on its position in the list or on the number of
torchrun ranks (seeds are sharded in whole batches, genbench.distributed).

Steps: without --steps the pipeline's own default is used (its __call__'s num_inference_steps: DDPM 1000,
DDIM/LDM 50), but never more than the scheduler's num_train_timesteps (read from
scheduler/scheduler_config.json before anything is loaded): a DDPM trained with 50 timesteps samples
with 50. A --steps above num_train_timesteps is refused before loading.

LDMPipeline does not pass its generator to `scheduler.step`, so its step noise would come from torch's
global RNG; it is accepted only with a deterministic step (DDIM with eta = 0, the pipeline's default).
Outputs ([0, 1] floats) become uint8 by genbench's rounding (images.float_to_uint8).
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from genbench.errors import ConfigError, InputError

SUPPORTED = ("DDPMPipeline", "DDIMPipeline", "LDMPipeline")
INSTALL_HINT = "pip install -e .[diffusers] (or pip install diffusers)"


@dataclass(frozen=True)
class DiffusersOptions:
    steps: int | None = None  # num_inference_steps; None: the pipeline's default, at most its training timesteps
    eta: float | None = None  # DDIM / LDM only; None: the pipeline's default (0)
    batch_size: int = 64  # rows per pipeline call; every call is padded to this size
    device: str = "auto"
    progress: bool = False


def require_diffusers() -> Any:
    try:
        import diffusers
    except ImportError:
        raise ConfigError(f"--diffusers: the diffusers package is not installed; {INSTALL_HINT}") from None
    return diffusers


def pipeline_class(path: Path) -> str:
    """The `_class_name` in PATH/model_index.json, checked against the supported pipelines."""
    index = path / "model_index.json"
    if not index.is_file():
        raise InputError(f"--diffusers {path}: no model_index.json (expected a folder written by "
                         "pipeline.save_pretrained)")
    try:
        name = json.loads(index.read_text())["_class_name"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{index}: unreadable pipeline index ({type(e).__name__}: {e})") from None
    if name not in SUPPORTED:
        raise ConfigError(f"--diffusers {path}: {name} is not supported (use one of {', '.join(SUPPORTED)})")
    return name


def train_timesteps(path: Path) -> int | None:
    """The scheduler's num_train_timesteps from PATH/scheduler/scheduler_config.json (None if absent)."""
    cfg = path / "scheduler" / "scheduler_config.json"
    if not cfg.is_file():
        return None
    try:
        n = json.loads(cfg.read_text()).get("num_train_timesteps")
    except (OSError, ValueError, AttributeError) as e:
        raise InputError(f"{cfg}: unreadable scheduler config ({type(e).__name__}: {e})") from None
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise InputError(f"{cfg}: num_train_timesteps {n!r} is not a positive integer")
    return n


def call_default_steps(class_name: str) -> int | None:
    """The num_inference_steps default of the pipeline class's __call__ (DDPM 1000, DDIM/LDM 50)."""
    cls = getattr(require_diffusers(), class_name, None)
    p = inspect.signature(cls.__call__).parameters.get("num_inference_steps") if cls is not None else None
    return p.default if p is not None and isinstance(p.default, int) else None


def resolve_steps(steps: int | None, class_name: str, timesteps: int | None, where: str) -> int | None:
    """--steps checked against the training timesteps, or the pipeline's default capped by them (pure)."""
    if steps is not None:
        if timesteps is not None and steps > timesteps:
            raise ConfigError(f"--steps {steps}: {where} was trained with {timesteps} timesteps "
                              f"(scheduler num_train_timesteps); use --steps {timesteps} or fewer")
        return steps
    default = call_default_steps(class_name)
    if default is None or timesteps is None:
        return default
    return min(default, timesteps)


_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def check_safetensors(path: Path) -> None:
    """Refuse a component folder whose weights exist only as pickle files (loading pickle can run code)."""
    for d in sorted(p for p in path.iterdir() if p.is_dir()):
        pickles = sorted(f.name for f in d.iterdir() if f.suffix in _PICKLE_SUFFIXES)
        if pickles and not any(f.suffix == ".safetensors" for f in d.iterdir()):
            raise InputError(f"--diffusers {path}: {d.name}/ holds weights only as pickle ({', '.join(pickles)}); "
                             "genbench loads .safetensors only, because unpickling can run code: re-save the "
                             "pipeline with save_pretrained(..., safe_serialization=True)")


def load_pipeline(path: str | Path, device: str = "auto") -> Any:
    """A supported pipeline from a local folder (never the network, safetensors only), on `device`, float32."""
    from genbench.numerics import resolve_device, strict_numerics

    path = Path(path)
    pipeline_class(path)
    check_safetensors(path)
    diffusers = require_diffusers()
    dev = resolve_device(device)
    strict_numerics()
    with _quiet(diffusers):
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(str(path), local_files_only=True, use_safetensors=True)
        except (OSError, ValueError) as e:
            raise InputError(f"--diffusers {path}: cannot load the pipeline ({type(e).__name__}: {e})") from None
        pipe.to(device=dev, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextlib.contextmanager
def _quiet(diffusers: Any) -> Iterator[None]:
    """No loading progress bar or advice to install accelerate; diffusers' logging restored after."""
    log = diffusers.utils.logging
    level, bar = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()
    log.disable_progress_bar()
    try:
        yield
    finally:
        log.set_verbosity(level)
        if bar:
            log.enable_progress_bar()


def call_kwargs(pipe: Any, opts: DiffusersOptions) -> dict[str, Any]:
    """Keyword arguments for pipe(...), validated before any sampling."""
    name = type(pipe).__name__
    if opts.batch_size < 1:
        raise ConfigError(f"--batch-size {opts.batch_size}: must be at least 1")
    kw: dict[str, Any] = {}
    if opts.steps is not None:
        if opts.steps < 1:
            raise ConfigError(f"--steps {opts.steps}: must be at least 1")
        kw["num_inference_steps"] = opts.steps
    if opts.eta is not None:
        if name == "DDPMPipeline":
            raise ConfigError("--eta: DDPMPipeline has no eta (use a DDIMPipeline or LDMPipeline folder)")
        if not 0.0 <= opts.eta <= 1.0:
            raise ConfigError(f"--eta {opts.eta}: must be in [0, 1]")
        kw["eta"] = opts.eta
    if name == "LDMPipeline":
        _check_ldm_step(pipe, kw.get("eta", 0.0))
    return kw


def _check_ldm_step(pipe: Any, eta: float) -> None:
    sched = pipe.scheduler
    stochastic = "generator" in inspect.signature(sched.step).parameters
    if type(sched).__name__ == "DDIMScheduler":
        stochastic = eta > 0
    if stochastic:
        raise ConfigError(f"--diffusers: LDMPipeline does not give its scheduler ({type(sched).__name__}, "
                          f"eta {eta}) a generator, so step noise would come from the global RNG and samples "
                          "would not depend on their seed alone; use a DDIMScheduler with --eta 0")


def sample_batch(pipe: Any, seeds: Sequence[int], batch_size: int, kw: dict[str, Any]) -> np.ndarray:
    """uint8 [len(seeds), 3, H, W]: one pipeline call of exactly batch_size rows, one generator per row."""
    from genbench.sets.images import to_uint8_nchw
    from genbench.seeding import generator

    seeds = [int(s) for s in seeds]
    padded = seeds + [seeds[-1]] * (batch_size - len(seeds))
    with torch.no_grad():
        out = pipe(batch_size=len(padded), generator=[generator(s) for s in padded], output_type="np",
                   return_dict=False, **kw)[0]
    arr = np.asarray(out.cpu().numpy() if hasattr(out, "cpu") else out)[: len(seeds)]  # [n, H, W, C] in [0, 1]
    return to_uint8_nchw(arr, value_range="0,1", layout="NHWC", where=f"{type(pipe).__name__} output")


def pipeline_sha256(path: Path) -> str:
    """sha256 over the folder's files (relative name + bytes, sorted): identifies the weights and configs."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def draw(pipeline: str | Path | Any, seeds: Sequence[int],
         opts: DiffusersOptions = DiffusersOptions()) -> tuple[np.ndarray, str, dict]:
    """One image per seed from a pipeline folder, or from a pipeline object already loaded (then
    opts.device is not applied), sharded by seed under torchrun: (uint8 [N, 3, H, W], source, manifest).
    `SampleSet.from_diffusers` wraps it."""
    from genbench import distributed
    from genbench.progress import bar as progress_bar

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("--seeds: no seeds given")
    if isinstance(pipeline, (str, Path)):
        path: Path | None = Path(pipeline)
        steps = resolve_steps(opts.steps, pipeline_class(path), train_timesteps(path), f"--diffusers {path}")
        pipe = load_pipeline(path, opts.device)  # only once the steps are known to fit
    else:
        path, pipe = None, pipeline
        if type(pipe).__name__ not in SUPPORTED:
            raise ConfigError(f"{type(pipe).__name__} is not supported (use one of {', '.join(SUPPORTED)})")
        steps = resolve_steps(opts.steps, type(pipe).__name__, pipe.scheduler.config.get("num_train_timesteps"),
                              type(pipe).__name__)
    kw = call_kwargs(pipe, replace(opts, steps=steps))
    bs = opts.batch_size

    def run(part: list[int]) -> tuple[np.ndarray, None]:
        chunks = range(0, len(part), bs)
        bar = progress_bar(chunks, desc="diffusers", unit="batch", enabled=opts.progress and distributed.is_main())
        return np.concatenate([sample_batch(pipe, part[i:i + bs], bs, kw) for i in bar]), None

    sha = None if path is None else pipeline_sha256(path)
    x, _ = distributed.generate_sharded(seeds, run, bs, facts={  # ranks agree on the pipeline's bytes, not its path
        "pipeline": type(pipe).__name__, "scheduler": type(pipe.scheduler).__name__, "pipeline_sha256": sha,
        "call": kw, "device": getattr(pipe.device, "type", str(pipe.device))})
    manifest = {"seeds": seeds, "model": str(path), "pipeline": type(pipe).__name__,
                "scheduler": type(pipe.scheduler).__name__, "pipeline_sha256": sha,
                "diffusers_version": require_diffusers().__version__, "call": kw, "batch_size": bs,
                "device": str(pipe.device)}
    source = f"diffusers:{path if path is not None else type(pipe).__name__}"
    return x, source, manifest
