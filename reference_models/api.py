"""ReferenceModel: a trained model plus its run record; `load(dir)` rebuilds one safely from disk.

`sample(seeds)` returns uint8 images [N, 3, H, W] (or float64 points [N, 2]); image k depends only on
seed k (see sampling.py), so the CLI's files and the Python API's tensors are the same bytes.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import torch

from genbench.errors import ConfigError, InputError
from genbench.numerics import resolve_device
from genbench.seeding import parse_seeds
from reference_models.base import RefModel
from reference_models.checkpoint import load_weights, sha256_file
from reference_models.configs import BaseConfig, config_to_dict
from reference_models.data import DataInfo
from reference_models.family import config_from_dict, get_family
from reference_models.sampling import SampleOptions, labels_for_seeds, make_chunk, quantize

WEIGHTS, CONFIG = "model.safetensors", "config.json"
# CPU training runs on this many intra-op threads whatever the machine: multi-threaded CPU kernels split
# their reductions by thread count, so weights trained with 1 and 2 threads differ in the last bits.
# Pinning it makes a training run bit-reproducible across machines and OMP_NUM_THREADS settings.
CPU_TRAIN_THREADS = 1


def config_hash(family: str, cfg: BaseConfig, info: DataInfo, seed: int) -> str:
    key = {"family": family, "config": config_to_dict(cfg), "dataset": info.dataset,
           "fingerprint": info.fingerprint, "seed": int(seed), "cpu_train_threads": CPU_TRAIN_THREADS}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def build_model(family: str, cfg: BaseConfig, info: DataInfo, seed: int = 0) -> RefModel:
    """Construct a family's networks with weights initialised from `seed` (the global RNG is untouched)."""
    cls = get_family(family).model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return cls(cfg, info)


def _check_seeds(seeds: Sequence[int] | str) -> list[int]:
    if isinstance(seeds, str):
        return parse_seeds(seeds)
    out = [int(s) for s in seeds]
    if not out or any(s < 0 for s in out) or len(set(out)) != len(out):
        raise ConfigError("seeds: must be a non-empty list of distinct non-negative integers")
    return out


class ReferenceModel:
    """A trained family model in eval mode, its run record and the sha256 of its weights file."""

    def __init__(self, net: RefModel, record: dict[str, Any], checkpoint_hash: str) -> None:
        self.net, self.record, self.checkpoint_hash = net.eval(), record, checkpoint_hash
        self.family, self.config, self.info = net.family, net.cfg, net.info

    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def conditional(self) -> bool:
        return self.net.conditional

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def to(self, device: str | torch.device) -> "ReferenceModel":
        self.net.to(resolve_device(device) if isinstance(device, str) else device)
        return self

    def sampler_settings(self, **opts: Any) -> dict[str, Any]:
        return self.net.resolve_options(**opts).to_dict()

    def sample(self, seeds: Sequence[int] | str, batch_size: int = 64, **opts: Any) -> torch.Tensor:
        """uint8 [N, 3, H, W] images (float64 [N, 2] points), one per seed; see sample_labelled."""
        return self.sample_labelled(seeds, batch_size, **opts)[0]

    @torch.no_grad()
    def sample_labelled(self, seeds: Sequence[int] | str, batch_size: int = 64, *, sampler: str | None = None,
                        steps: int | None = None, eta: float | None = None, guidance: float | None = None,
                        class_label: int | None = None, progress: bool = False
                        ) -> tuple[torch.Tensor, list[int] | None]:
        """Samples and their class labels (None for unconditional models).

        Options (diffusion families): sampler 'ddpm' | 'ddim', steps K, eta (DDIM); (ldm) guidance w and
        class_label; without class_label a conditional model draws each seed's label from that seed.
        `batch_size` only groups seeds for the progress bar: the network always runs on fixed padded
        micro-batches (config.micro_batch), which is what makes sample k independent of the batch size.
        """
        from genbench.progress import bar

        seeds = _check_seeds(seeds)
        if batch_size < 1:
            raise ConfigError(f"--batch-size: must be >= 1, got {batch_size}")
        o = self.net.resolve_options(sampler, steps, eta, guidance, class_label)
        labels = self._labels(seeds, o)
        m, outs = self.config.micro_batch, []
        for i in bar(range(0, len(seeds), m), desc="sample", unit="chunk", enabled=progress):
            chunk = make_chunk(seeds[i:i + m], None if labels is None else labels[i:i + m], m, self.device)
            outs.append(self._finish(self.net.generate(chunk, o)[:chunk.n]))
        return torch.cat(outs), labels

    def _labels(self, seeds: list[int], o: SampleOptions) -> list[int] | None:
        if not self.conditional:
            return None
        if o.class_label is not None:
            return [o.class_label] * len(seeds)
        return labels_for_seeds(seeds, self.info.num_classes)

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "points":
            return x.detach().to("cpu", torch.float64)  # [n, 2]
        return quantize(x).cpu()  # [n, 3, H, W] uint8

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Autoencoding families (vae, ldm): uint8 [N, C, S, S] -> uint8 reconstructions [N, 3, S, S]."""
        if not hasattr(self.net, "reconstruct"):
            raise ConfigError(f"reconstruct: the {self.family} family has no encoder")
        x = images.to(self.device, torch.float32) / 127.5 - 1.0
        if x.shape[1] != self.info.channels:
            x = x[:, : self.info.channels]
        m, outs = self.config.micro_batch, []
        for i in range(0, len(x), m):
            part = x[i:i + m]
            pad = torch.cat([part, part.new_zeros((m - len(part), *part.shape[1:]))])
            outs.append(quantize(self.net.reconstruct(pad)[: len(part)]).cpu())
        return torch.cat(outs)


# ---- loading -----------------------------------------------------------------------------------
def read_record(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CONFIG
    if not path.is_file():
        raise InputError(f"{run_dir}: not a reference-model run folder (no {CONFIG})")
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable JSON ({e})") from None
    if not isinstance(rec, dict):
        raise InputError(f"{path}: expected a JSON object")
    missing = [k for k in ("family", "config", "data", "seed", "config_hash") if k not in rec]
    if missing:
        raise InputError(f"{path}: missing field(s) {', '.join(missing)}")
    return rec


def parse_record(rec: dict[str, Any], where: Path) -> tuple[str, BaseConfig, DataInfo, int]:
    """Validate a run record: known family, well-formed config, and a config hash that still matches."""
    family = str(rec["family"])
    get_family(family)
    cfg = config_from_dict(family, rec["config"], str(where))
    info = DataInfo.from_dict(rec["data"], str(where))
    seed = rec["seed"]
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{where}: 'seed' must be a non-negative integer, got {seed!r}")
    if config_hash(family, cfg, info, seed) != rec["config_hash"]:
        raise InputError(f"{where}: config_hash does not match its contents (edited by hand?)")
    return family, cfg, info, seed


def load(run_dir: str | Path, device: str = "cpu") -> ReferenceModel:
    """Load a finished run folder written by `train` (safetensors only; configs validated)."""
    run_dir = Path(run_dir)
    rec = read_record(run_dir)
    family, cfg, info, seed = parse_record(rec, run_dir / CONFIG)
    weights = run_dir / WEIGHTS
    if not weights.is_file():
        raise InputError(f"{run_dir}: no {WEIGHTS} (training unfinished? rerun `genbench train` on it to resume)")
    net = build_model(family, cfg, info, seed)
    load_weights(weights, net, rec["config_hash"])
    return ReferenceModel(net.to(resolve_device(device)), rec, sha256_file(weights))
