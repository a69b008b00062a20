"""Checkpoints without pickle: tensors in safetensors, everything else in JSON, written atomically.

Layout of a run folder DIR:
  model.safetensors            final weights (all networks, EMA included), metadata: family, config hash
  config.json                  the run record (see train.py)
  ckpt/state-<step>.safetensors  weights + optimizer tensors + the training RNG state
  ckpt/state.json              step, config hash, optimizer param groups, and the sha256 of the tensors
                               file it belongs to; written last, so it is the commit point of a checkpoint
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from genbench.errors import InputError
from genbench.io import atomic_write, atomic_write_json

STATE_JSON = "state.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


_META_KEY = "genbench"


def write_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors file with the metadata as one sorted-JSON entry: safetensors writes a metadata map in
    hash order, so several keys would make the file bytes (and the checkpoint hash) vary run to run."""
    cpu = {k: _cpu(v) for k, v in tensors.items()}
    meta = None if metadata is None else {_META_KEY: json.dumps(metadata, sort_keys=True)}
    atomic_write(path, lambda tmp: save_file(cpu, str(tmp), metadata=meta))


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InputError(f"{path}: corrupt or truncated safetensors file ({e})") from None


def read_metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InputError(f"{path}: corrupt or truncated safetensors file ({e})") from None
    try:
        return json.loads(meta[_META_KEY]) if _META_KEY in meta else meta
    except json.JSONDecodeError:
        raise InputError(f"{path}: unreadable genbench metadata in the checkpoint") from None


def load_into(model: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    """Load a state dict, refusing missing/unexpected keys or shape mismatches with one clear line."""
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise InputError(f"{where}: checkpoint does not match the model in config.json "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in own.items():
        if tuple(tensors[k].shape) != tuple(v.shape) or tensors[k].dtype != v.dtype:
            raise InputError(f"{where}: tensor {k!r} has shape {tuple(tensors[k].shape)} {tensors[k].dtype}, "
                             f"the model expects {tuple(v.shape)} {v.dtype}")
    check_finite(tensors, where)
    model.load_state_dict(tensors, strict=True)


def check_finite(tensors: dict[str, torch.Tensor], where: Path) -> None:
    """Refuse weights holding NaN or Inf (a diverged or corrupted run would sample all-black images)."""
    for k, v in tensors.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise InputError(f"{where}: tensor {k!r} holds NaN or Inf values; refusing a diverged or corrupt "
                             "checkpoint")


# ---- final weights -----------------------------------------------------------------------------
def save_weights(path: Path, model: nn.Module, metadata: dict[str, str]) -> None:
    write_tensors(path, dict(model.state_dict()), metadata)


def load_weights(path: Path, model: nn.Module, config_hash: str) -> None:
    meta = read_metadata(path)
    if meta.get("config_hash") != config_hash:
        raise InputError(f"{path}: weights belong to another run (config hash {meta.get('config_hash')!r} "
                         f"differs from config.json's {config_hash!r})")
    load_into(model, read_tensors(path), path)


# ---- resumable training state ------------------------------------------------------------------
def _optim_tensors(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors, record = {}, {"param_groups": sd["param_groups"], "state": {}}
    for idx, st in sd["state"].items():
        record["state"][str(idx)] = sorted(st)
        for key, val in st.items():
            tensors[f"optim/{name}/{idx}/{key}"] = val if torch.is_tensor(val) else torch.tensor(val)
    return tensors, record


def _optim_state(name: str, record: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state = {int(idx): {key: tensors[f"optim/{name}/{idx}/{key}"] for key in keys}
             for idx, keys in record["state"].items()}
    return {"state": state, "param_groups": record["param_groups"]}


def save_state(run_dir: Path, model: nn.Module, opts: dict[str, torch.optim.Optimizer], step: int,
               gen: torch.Generator, config_hash: str) -> None:
    ckpt = run_dir / "ckpt"
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    tensors["rng"] = gen.get_state()
    records = {}
    for name, opt in opts.items():
        t, records[name] = _optim_tensors(name, opt)
        tensors.update(t)
    path = ckpt / f"state-{step:08d}.safetensors"
    write_tensors(path, tensors)
    atomic_write_json(ckpt / STATE_JSON, {"step": step, "config_hash": config_hash, "optimizers": records,
                                          "tensors": path.name, "sha256": sha256_file(path)})
    for old in ckpt.glob("state-*.safetensors"):
        if old.name != path.name:
            old.unlink(missing_ok=True)


def load_state(run_dir: Path, model: nn.Module, opts: dict[str, torch.optim.Optimizer], gen: torch.Generator,
               config_hash: str) -> int | None:
    """Restore the last checkpoint into model/opts/gen; returns its step, or None when there is none."""
    rec_path = run_dir / "ckpt" / STATE_JSON
    if not rec_path.is_file():
        return None
    try:
        rec = json.loads(rec_path.read_text())
        path = run_dir / "ckpt" / rec["tensors"]
        step, want_hash = int(rec["step"]), rec["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{rec_path}: unreadable checkpoint record ({e})") from None
    if rec.get("config_hash") != config_hash:
        raise InputError(f"{rec_path}: checkpoint of a different configuration; use a new --out folder")
    if not path.is_file() or sha256_file(path) != want_hash:
        raise InputError(f"{path}: checkpoint tensors are missing or do not match {rec_path} (sha256)")
    tensors = read_tensors(path)
    load_into(model, {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}, path)
    for name, opt in opts.items():
        opt.load_state_dict(_optim_state(name, rec["optimizers"][name], tensors))
    gen.set_state(tensors["rng"])
    return step
