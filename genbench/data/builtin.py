"""Built-in datasets. Images are uint8 [N, 3, H, W]; 2-D mixtures are float64 [N, 2].

- digits, digits-train, digits-test: scikit-learn's bundled 1,797 8x8 digits (values 0..16 scaled to
  0..255 by rounding), split 80/20 by a fixed seeded permutation (seed 0): 1,438 train / 359 test.
- stacked-digits, stacked-digits-test: after Stacked MNIST (VEEGAN): three digits as the R, G, B channels,
  1,000 modes labelled 100*a + 10*b + c; drawn with seed 0 (train) / seed 1 (test) from the same split.
- toy2d-ring8: 8 Gaussians on the unit circle, sigma 0.01; toy2d-grid25: 25 Gaussians on {-4,-2,0,2,4}^2,
  sigma 0.05 (VEEGAN / PacGAN setups); 100,000 points with seed 0, modes chosen uniformly.
"""
from __future__ import annotations

import functools
from pathlib import Path
from dataclasses import dataclass
from typing import Callable

import numpy as np

from genbench.registry import Registry

SPLIT_SEED = 0
TEST_FRACTION = 0.2
STACKED_SIZE = 10_000
TOY2D_SIZE = 100_000


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str  # "images" or "points"
    data: np.ndarray  # uint8 [N, 3, H, W] or float64 [N, 2]
    labels: np.ndarray | None  # int64 [N]
    num_classes: int | None
    description: str
    traits: tuple[str, ...] = ()  # declared properties, e.g. "stacked-channels" (one digit per channel)


DATASETS: Registry[Callable[[], Dataset]] = Registry("dataset")


@functools.lru_cache(maxsize=None)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    images, target = _digits_file()  # [1797, 8, 8] float64 in 0..16, [1797]
    gray = np.rint(images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)  # [1797, 8, 8]
    return gray, target.astype(np.int64)


def _digits_file() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits (load_digits' own data file, read directly: importing sklearn.datasets costs more
    than a second of every command that opens digits); load_digits itself where the file is not found."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    where = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(where[0]) / "datasets" / "data" / "digits.csv.gz" if where else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.images, d.target
    data = np.loadtxt(path, delimiter=",")  # [1797, 65]: 64 pixels (0..16), then the class
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1]


def _split_indices() -> tuple[np.ndarray, np.ndarray]:
    n = len(_digits_raw()[1])
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_test = int(round(n * TEST_FRACTION))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[:, None], 3, axis=1))  # [N, 3, 8, 8]


def _digits(name: str, idx: np.ndarray | None, what: str) -> Dataset:
    gray, y = _digits_raw()
    if idx is not None:
        gray, y = gray[idx], y[idx]
    return Dataset(name, "images", _gray_to_rgb(gray), y, 10, f"scikit-learn digits, {what} (8x8, gray as RGB)")


def _stacked(name: str, split: int, seed: int, n: int) -> Dataset:
    gray, y = _digits_raw()
    idx = _split_indices()[split]
    pick = np.random.default_rng(seed).choice(idx, size=(n, 3), replace=True)  # [n, 3]
    images = np.ascontiguousarray(gray[pick])  # [n, 3, 8, 8]: one digit per channel
    labels = y[pick] @ np.array([100, 10, 1])
    return Dataset(name, "images", images, labels.astype(np.int64), 1000,
                   "stacked digits: three digits as R, G, B channels, 1,000 modes", ("stacked-channels",))


MODE_MIXTURE = "mode-mixture"  # dataset trait: a 2-D Gaussian mixture with known modes (toy2d_modes)


def _ring8() -> tuple[np.ndarray, float]:
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01  # [8, 2]


def _grid25() -> tuple[np.ndarray, float]:
    g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    xx, yy = np.meshgrid(g, g, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1), 0.05  # [25, 2]


_MIXTURES: dict[str, Callable[[], tuple[np.ndarray, float]]] = {"toy2d-ring8": _ring8, "toy2d-grid25": _grid25}


def mixture_names() -> tuple[str, ...]:
    """The datasets with the trait "mode-mixture", whose modes toy2d_modes gives."""
    return tuple(_MIXTURES)


def toy2d_modes(name: str) -> tuple[np.ndarray, float]:
    """Mode centres [K, 2] float64 and the per-mode standard deviation of a 2-D mixture."""
    return _MIXTURES[name]()


def _toy2d(name: str, n: int = TOY2D_SIZE, seed: int = SPLIT_SEED) -> Dataset:
    centres, sigma = toy2d_modes(name)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(centres), size=n)
    points = centres[labels] + sigma * rng.standard_normal((n, 2))
    return Dataset(name, "points", points, labels.astype(np.int64), len(centres),
                   f"{len(centres)} Gaussians, sigma {sigma} (PacGAN setup)", (MODE_MIXTURE,))


DATASETS.add("digits", lambda: _digits("digits", None, "all 1,797"))
DATASETS.add("digits-train", lambda: _digits("digits-train", _split_indices()[0], "train split (1,438)"))
DATASETS.add("digits-test", lambda: _digits("digits-test", _split_indices()[1], "test split (359)"))
DATASETS.add("stacked-digits", lambda: _stacked("stacked-digits", 0, 0, STACKED_SIZE))
DATASETS.add("stacked-digits-test", lambda: _stacked("stacked-digits-test", 1, 1, STACKED_SIZE))
for _name in _MIXTURES:
    DATASETS.add(_name, lambda n=_name: _toy2d(n))


@functools.lru_cache(maxsize=None)
def load_dataset(name: str) -> Dataset:
    """Load a built-in dataset by name (cached; arrays are read-only)."""
    ds = DATASETS.get(name)()
    ds.data.setflags(write=False)
    if ds.labels is not None:
        ds.labels.setflags(write=False)
    return ds
