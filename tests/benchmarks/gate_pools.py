"""Sample pools for bench_gate: digits-train as is, with classes removed, blurred, noised, and a DDPM
trained (quick preset) for a quarter of its steps. Features are computed once per pool."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genbench.data import load_dataset
from genbench.features.extract import build_extractor
from genbench.numerics import softmax64

ROOT = Path(__file__).resolve().parents[2]
QUARTER_DIR = ROOT / "runs" / "bench-gate" / "ddpm-quarter"
QUICK_DDPM_STEPS = 1500  # reference_models' quick preset for ddpm


def blur(images: np.ndarray) -> np.ndarray:
    """Mild blur: a 3x3 binomial kernel (1 2 1)ᵀ(1 2 1)/16 with weight 0.5 mixed with the original."""
    x = torch.from_numpy(images.astype(np.float32))  # [N, 3, 8, 8]
    k = torch.tensor([1.0, 2.0, 1.0])
    k = (k[:, None] * k[None, :] / 16.0).expand(3, 1, 3, 3)
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=3)
    return (0.5 * x + 0.5 * y).round().clamp(0, 255).to(torch.uint8).numpy()


def noise(images: np.ndarray, std: float = 25.0, seed: int = 0) -> np.ndarray:
    """Added Gaussian noise, std 25 of 255 (one draw per pixel, shared across the 3 gray channels)."""
    rng = np.random.default_rng(seed)
    n = rng.normal(0.0, std, size=(len(images), 1) + images.shape[2:])
    return np.clip(np.rint(images + n), 0, 255).astype(np.uint8)


QUARTER_POOL = 1000  # samples drawn once (seeds 0..999); each trial draws N of them with replacement


def quarter_ready(n: int = QUARTER_POOL) -> bool:
    return (QUARTER_DIR / f"samples-{n}.npy").is_file()


def quarter_model_images(n: int) -> np.ndarray:
    """n samples (seeds 0..n-1, DDIM 50 steps as the digits suite samples) of a DDPM trained on
    digits-train with the quick preset for 1/4 of its steps (cached under runs/bench-gate)."""
    import reference_models
    from genbench.sets.samples import open_samples

    path = QUARTER_DIR / f"samples-{n}.npy"
    if path.is_file():
        return open_samples(str(path)).load()
    reference_models.train("ddpm", "digits-train", "quick", out=QUARTER_DIR, steps=QUICK_DDPM_STEPS // 4, device="cpu")
    model = reference_models.load(QUARTER_DIR)
    torch.set_num_threads(1)  # on a shared CPU, one thread is several times faster than spinning OpenMP threads
    images = model.sample(list(range(n)), batch_size=256, sampler="ddim").numpy()
    np.save(path, images, allow_pickle=False)
    return images


def features(images: np.ndarray) -> dict[str, np.ndarray]:
    """digits-classifier embedding [N, 64] and class probabilities [N, 10] (softmax of the logits), and the
    pixels extractor's embedding [N, 192] under "pixels" (digits-default v2 gates fd_pixels too)."""
    ext = build_extractor("digits-classifier", device="cpu")
    outs = list(ext.run_batches(images[i:i + 512] for i in range(0, len(images), 512)))
    emb = np.concatenate([o["embedding"] for o in outs])
    pix = build_extractor("pixels", device="cpu")
    px = np.concatenate([o["embedding"] for o in pix.run_batches(images[i:i + 512] for i in range(0, len(images), 512))])
    return {"embedding": emb, "class_probs": softmax64(np.concatenate([o["logits"] for o in outs])), "pixels": px}


SLIGHT_NOISE = 15.0  # std of bench_power's "slight noise": fd_pixels rises by about 0.10 (tolerance 0.25)


def lazy_images(name: str) -> np.ndarray:
    """Images of the pools made on first use: the quarter-trained DDPM's, and digits-train with slight noise."""
    if name == "ddpm-quarter":
        return quarter_model_images(QUARTER_POOL)
    if name == "noise-15":
        return noise(load_dataset("digits-train").data, SLIGHT_NOISE)
    raise KeyError(name)


class Pools(dict):
    """Pool features by name; the DDPM and slight-noise pools are made and featurised on first use."""

    def __missing__(self, name: str) -> dict[str, np.ndarray]:
        self[name] = features(lazy_images(name))
        return self[name]


def pools() -> tuple[Pools, np.ndarray, dict[str, np.ndarray]]:
    """(pool features by condition, digits-train labels, digits-test features)."""
    train = load_dataset("digits-train")
    out = Pools(real=features(train.data), blur=features(blur(train.data)), noise=features(noise(train.data)))
    return out, np.asarray(train.labels), features(load_dataset("digits-test").data)


class ImagePools(dict):
    """Pool images (uint8 [N, 3, 8, 8]) by name; the DDPM pool is trained and sampled on first use."""

    def __missing__(self, name: str) -> np.ndarray:
        self[name] = lazy_images(name)
        return self[name]


def image_pools() -> tuple[ImagePools, np.ndarray]:
    """(pool images by name, digits-train labels): what bench_gate writes into sample files."""
    train = load_dataset("digits-train")
    return ImagePools(real=train.data, blur=blur(train.data), noise=noise(train.data)), np.asarray(train.labels)
