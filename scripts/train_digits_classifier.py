"""Train the shipped `digits-classifier` (genbench/features/digits.py) on `digits-train`, deterministically on CPU.

Writes genbench/assets/digits_classifier.safetensors and digits_classifier.json (sha256, test accuracy on
`digits-test`, seed, recipe). Recipe: Adam, lr 2e-3 with cosine decay, batch 64, random +-1 pixel shifts,
fixed seed; under a minute on one CPU core.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_digits_classifier.py [--seed 0] [--epochs 40]
    .venv/bin/python scripts/train_digits_classifier.py --confusion-only   # re-measure, keep the weights

Both also store the classifier's confusion on `digits-test` (counts[true, predicted]) and, per class c,
`other_class_rate[c]` = (#test images of other classes predicted as c + 1) / (#test images of other
classes + 2), the add-one (Laplace) estimate of the rate at which real images of other classes land in c.
`classes_covered` tests each class's count against it (genbench.metrics.functional.modes).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genbench.data import load_dataset
from genbench.features import digits
from genbench.features.weights import sha256_file
from genbench.io import atomic_write, atomic_write_json


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    max_shift: int = 1


def _inputs(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    ds = load_dataset(name)
    x = digits.to_gray8(torch.from_numpy(np.array(ds.data)))  # [N, 1, 8, 8] float32
    return x, torch.from_numpy(np.array(ds.labels))  # [N] int64


def _shift(x: torch.Tensor, gen: torch.Generator, max_shift: int) -> torch.Tensor:
    """Random integer translation by up to max_shift pixels, zero fill (one draw per batch)."""
    dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=gen))
    padded = F.pad(x, (max_shift,) * 4)  # [B, 1, 8+2s, 8+2s]
    s = max_shift
    return padded[..., s + dy:s + dy + 8, s + dx:s + dx + 8]


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.inference_mode():
        return float((model.eval()(x).argmax(1) == y).double().mean())


def train(cfg: TrainConfig) -> tuple[digits.DigitsCNN, float]:
    torch.manual_seed(cfg.seed)  # weight init of the freshly built model
    gen = torch.Generator().manual_seed(cfg.seed)
    model = digits.DigitsCNN()
    x, y = _inputs("digits-train")
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * ((len(x) + cfg.batch_size - 1) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for epoch in range(cfg.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = F.cross_entropy(model(_shift(x[idx], gen, cfg.max_shift)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    xt, yt = _inputs("digits-test")
    return model.eval(), accuracy(model, xt, yt)


def confusion(model: torch.nn.Module) -> dict:
    """Confusion counts [true, predicted] on digits-test and the add-one other-class rate per class."""
    xt, yt = _inputs("digits-test")
    with torch.inference_mode():
        pred = model.eval()(xt).argmax(1)
    k = digits.NUM_CLASSES
    counts = np.zeros((k, k), dtype=np.int64)  # [true, predicted]
    np.add.at(counts, (yt.numpy(), pred.numpy()), 1)
    others = counts.sum() - counts.sum(axis=1)  # [K] test images not of class c
    landed = counts.sum(axis=0) - np.diag(counts)  # [K] of those, predicted as c
    rate = (landed + 1.0) / (others + 2.0)
    return {"confusion_split": "digits-test", "confusion": counts.tolist(),
            "other_class_rate": [round(float(r), 8) for r in rate],
            "other_class_rate_estimator": "(others predicted as c + 1) / (others + 2), digits-test"}


def record_confusion() -> dict:
    """Add the shipped classifier's confusion to its record (the weights and their sha256 are untouched)."""
    model, _ = digits.load_classifier()
    rec = json.loads(digits.RECORD_FILE.read_text())
    rec.update(confusion(model))
    atomic_write_json(digits.RECORD_FILE, rec)
    return rec


def save(model: digits.DigitsCNN, acc: float, cfg: TrainConfig, seconds: float) -> str:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    atomic_write(digits.WEIGHTS_FILE, lambda p: save_file(state, str(p)))
    digest = sha256_file(digits.WEIGHTS_FILE)
    atomic_write_json(digits.RECORD_FILE, {
        "name": digits.WEIGHTS_NAME, "file": digits.WEIGHTS_FILE.name, "sha256": digest,
        "test_accuracy": round(acc, 6), "test_split": "digits-test", "train_split": "digits-train",
        "training_seed": cfg.seed, "config": asdict(cfg), "torch_version": torch.__version__,
        "train_seconds": round(seconds, 1), "script": "scripts/train_digits_classifier.py", **confusion(model),
    })
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--confusion-only", action="store_true",
                        help="only re-measure the shipped classifier's confusion on digits-test")
    args = parser.parse_args(argv)
    if args.confusion_only:
        rec = record_confusion()
        print(f"other-class rates {rec['other_class_rate']} written to {digits.RECORD_FILE}")
        return 0
    cfg = TrainConfig(seed=args.seed, epochs=args.epochs)
    torch.use_deterministic_algorithms(True)
    t0 = time.perf_counter()
    model, acc = train(cfg)
    seconds = time.perf_counter() - t0
    digest = save(model, acc, cfg, seconds)
    print(f"digits-test accuracy {acc:.4f} in {seconds:.1f}s; wrote {Path(digits.WEIGHTS_FILE)} sha256 {digest}")
    return 0 if acc >= 0.97 else 1


if __name__ == "__main__":
    raise SystemExit(main())
