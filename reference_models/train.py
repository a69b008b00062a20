"""The training loop shared by every family: seeded, checkpointed every K steps, resumable, logged.

A run folder holds config.json (family, preset, every hyperparameter, dataset fingerprint, seed,
genbench and torch versions), train_log.csv, loss.png, model.safetensors and ckpt/ (see checkpoint.py).
Rerunning on the same folder resumes from the last checkpoint; a finished run with the same config
hash is reused as is; a folder holding a different configuration is refused.

Determinism: weights are initialised from `seed` under a forked global RNG, and every random draw of
training (batch indices, noise, timesteps, label dropout) comes from one CPU torch.Generator whose state
is checkpointed; on the CPU two runs with the same seed give identical weights, and an interrupted run
resumed from its checkpoint ends where an uninterrupted one does.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import time
from pathlib import Path
from typing import Any, Iterator

import torch

import genbench
from genbench.errors import ConfigError
from genbench.io import atomic_write_json, atomic_write, atomic_write_text
from genbench.numerics import resolve_device
from genbench.seeding import generator
from reference_models.api import CONFIG, CPU_TRAIN_THREADS, WEIGHTS, ReferenceModel, build_model, config_hash, read_record
from reference_models.base import RefModel, set_learning_rates
from reference_models.checkpoint import load_state, save_state, save_weights, sha256_file
from reference_models.configs import BaseConfig, config_to_dict
from reference_models.data import TrainData, draw_batch, load_train_data
from reference_models.family import get_family, get_preset

LOG, PLOT = "train_log.csv", "loss.png"


def train(family: str, dataset: str, preset: str = "quick", *, out: str | Path, seed: int = 0,
          steps: int | None = None, device: str = "auto", config: BaseConfig | None = None,
          overrides: dict[str, Any] | None = None, progress: bool = False, stop_after: int | None = None,
          **field_overrides: Any) -> ReferenceModel | None:
    """Train (or resume, or reuse) a reference model into `out`; returns the trained model in eval mode.

    `config` replaces the preset entirely (tests use tiny configs); `overrides` (a dict) and keyword
    `field_overrides` replace preset fields (e.g. pack=2, image_size=16). `stop_after` stops after that
    many total steps without finishing, as an interruption would (returns None); calling again resumes.
    """
    cls = get_family(family).model
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed: must be a non-negative integer, got {seed!r}")
    fields = {**(overrides or {}), **field_overrides, **({} if steps is None else {"steps": steps})}
    if config is not None and fields:
        raise ConfigError(f"train: give either a config or preset overrides ({', '.join(fields)}), not both")
    cfg = config if config is not None else get_preset(family, preset, **fields)
    data = load_train_data(dataset, cls.kind, getattr(cfg, "image_size", 0))
    chash = config_hash(family, cfg, data.info, seed)
    run_dir = Path(out)
    if (run_dir / CONFIG).is_file():
        reused = _existing_run(run_dir, chash, device)
        if reused is not None:
            return reused
    record = _record(family, preset if config is None else "custom", cfg, data, seed, chash)
    atomic_write_json(run_dir / CONFIG, record)
    dev = resolve_device(device)
    net = build_model(family, cfg, data.info, seed).to(dev)
    with _pinned_threads(CPU_TRAIN_THREADS if dev.type == "cpu" else torch.get_num_threads()):
        return _fit(net, data, run_dir, record, dev, progress, stop_after)


@contextlib.contextmanager
def _pinned_threads(n: int) -> Iterator[None]:
    """Run the block on exactly n intra-op threads, then restore the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _existing_run(run_dir: Path, chash: str, device: str) -> ReferenceModel | None:
    from reference_models.api import load

    rec = read_record(run_dir)
    if rec.get("config_hash") != chash:
        raise ConfigError(f"--out {run_dir}: holds a run of a different configuration "
                          f"({rec.get('family')}/{rec.get('preset')}); use a new folder")
    if rec.get("finished") and (run_dir / WEIGHTS).is_file():
        return load(run_dir, device=device)
    return None


def _record(family: str, preset: str, cfg: BaseConfig, data: TrainData, seed: int, chash: str) -> dict[str, Any]:
    return {"family": family, "preset": preset, "config": config_to_dict(cfg), "data": data.info.to_dict(),
            "seed": seed, "config_hash": chash, "genbench_version": genbench.__version__,
            "torch_version": torch.__version__, "cpu_train_threads": CPU_TRAIN_THREADS, "finished": False}


def _fit(net: RefModel, data: TrainData, run_dir: Path, record: dict, dev: torch.device, progress: bool,
         stop_after: int | None) -> ReferenceModel | None:
    from genbench.progress import bar as progress_bar

    cfg, chash = net.cfg, record["config_hash"]
    opts = net.make_optimizers()
    set_learning_rates(net, opts, 0)  # records each group's base_lr before a checkpoint may be loaded
    gen = generator(record["seed"] * 1_000_003 + 1)  # the run's one training RNG (CPU)
    start = load_state(run_dir, net, opts, gen, chash) or 0
    rows = [r for r in _read_log(run_dir / LOG) if int(r["step"]) <= start]
    end = cfg.steps if stop_after is None else min(stop_after, cfg.steps)
    t0 = time.perf_counter() - float(rows[-1]["seconds"]) if rows else time.perf_counter()
    net.train()
    bar = progress_bar(range(start, end), initial=start, total=cfg.steps, desc=f"train {net.family}", enabled=progress)
    for step in bar:
        net.before_step(step, data)
        if cfg.lr_schedule != "constant" or cfg.warmup_steps > 0:
            set_learning_rates(net, opts, step)
        x, y = draw_batch(data, net.items_per_step(), gen, dev)
        vals = net.train_step(x, y, gen, step, opts)
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            rows.append(_row(done, vals, time.perf_counter() - t0))
            bar.set_postfix({k: f"{v:.4g}" for k, v in vals.items() if math.isfinite(v)}, refresh=False)
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            save_state(run_dir, net, opts, done, gen, chash)
            _write_log(run_dir / LOG, rows, net.log_keys)
    bar.close()
    net.eval()
    if end < cfg.steps:
        return None
    net.after_training(data)
    return _finish(net, run_dir, record, rows, time.perf_counter() - t0)


def _finish(net: RefModel, run_dir: Path, record: dict, rows: list[dict], seconds: float) -> ReferenceModel:
    save_weights(run_dir / WEIGHTS, net, {"family": net.family, "config_hash": record["config_hash"]})
    _write_log(run_dir / LOG, rows, net.log_keys)
    _plot(run_dir / PLOT, rows, net.log_keys, net.family)
    digest = sha256_file(run_dir / WEIGHTS)
    record = dict(record, finished=True, train_seconds=round(seconds, 2), weights_sha256=digest,
                  device=str(next(net.parameters()).device))
    atomic_write_json(run_dir / CONFIG, record)
    return ReferenceModel(net, record, digest)


# ---- log and plot ------------------------------------------------------------------------------
def _row(step: int, vals: dict[str, float], seconds: float) -> dict[str, Any]:
    cells = {k: ("" if not math.isfinite(v) else v) for k, v in vals.items()}
    return {"step": step, "seconds": round(seconds, 3), **cells}


def _read_log(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_log(path: Path, rows: list[dict], keys: tuple[str, ...]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["step", "seconds", *keys], extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _plot(path: Path, rows: list[dict], keys: tuple[str, ...], family: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for k in keys:
        pts = [(int(r["step"]), float(r[k])) for r in rows if r.get(k) not in ("", None)]
        if pts:
            ax.plot(*zip(*pts), label=k, linewidth=1)
    ax.set_xlabel("step")
    ax.set_title(f"{family} training losses")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
