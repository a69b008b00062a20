"""Training data for the reference models, from genbench's built-in datasets (the ones SampleSet uses).

Images become float32 [N, C, S, S] in [-1, 1]: digits keep one channel (their three channels are equal),
stacked-digits keep three; 8x8 images are upsampled bilinearly to S = 16 or 32 when the config asks.
2-D mixtures become float32 [N, 2]. The dataset fingerprint is genbench's SampleSet fingerprint.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genbench.data import DATASETS, load_dataset
from genbench.errors import ConfigError
from genbench.sets.samples import SampleSet


@dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about its training data; stored in config.json."""

    dataset: str
    fingerprint: str
    kind: str              # "images" or "points"
    channels: int          # 1 (digits) or 3; 2 for points (the dimension)
    image_size: int        # 0 for points
    num_classes: int       # 0 when the dataset has no labels

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any, where: str) -> "DataInfo":
        try:
            info = cls(**d)
        except TypeError as e:
            raise ConfigError(f"{where}: bad 'data' record ({e})") from None
        if info.kind not in ("images", "points"):
            raise ConfigError(f"{where}: data kind must be images or points, got {info.kind!r}")
        return info


@dataclass(frozen=True)
class TrainData:
    info: DataInfo
    x: torch.Tensor              # [N, C, S, S] float32 in [-1, 1], or [N, 2] float32
    y: torch.Tensor | None       # [N] int64

    def __len__(self) -> int:
        return len(self.x)


def _is_gray(data: np.ndarray) -> bool:
    return bool(np.array_equal(data[:, 0], data[:, 1]) and np.array_equal(data[:, 0], data[:, 2]))


def load_train_data(name: str, kind: str, image_size: int = 0) -> TrainData:
    """Load a built-in dataset for a family of `kind` ('images' or 'points') at `image_size`."""
    if name not in DATASETS:
        DATASETS.get(name)  # raises UnknownNameError with a "did you mean" hint
    ds = load_dataset(name)
    if ds.kind != kind:
        raise ConfigError(f"--dataset {name}: a {ds.kind} dataset, but this model family trains on {kind}")
    fingerprint = SampleSet.from_dataset(name).fingerprint
    labels = None if ds.labels is None else torch.from_numpy(np.array(ds.labels, dtype=np.int64))
    ncls = int(ds.num_classes or 0)
    if kind == "points":
        x = torch.from_numpy(np.array(ds.data, dtype=np.float32))  # [N, 2]
        return TrainData(DataInfo(name, fingerprint, kind, 2, 0, ncls), x, labels)
    data = ds.data[:, :1] if _is_gray(ds.data) else ds.data  # [N, C, 8, 8] uint8
    x = torch.from_numpy(np.array(data, dtype=np.float32)) / 127.5 - 1.0
    if x.shape[-1] != image_size:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False).clamp(-1, 1)
    return TrainData(DataInfo(name, fingerprint, kind, x.shape[1], image_size, ncls), x.contiguous(), labels)


def draw_batch(data: TrainData, batch_size: int, gen: torch.Generator, device: torch.device
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A batch drawn uniformly with replacement using the run's generator (so resuming is exact)."""
    idx = torch.randint(len(data), (batch_size,), generator=gen)  # [B]
    x = data.x[idx].to(device)
    y = None if data.y is None else data.y[idx].to(device)
    return x, y
