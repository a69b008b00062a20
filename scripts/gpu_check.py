"""One-go GPU check for a session that has a CUDA device (issue #9 item 5); prints a BENCHMARKS.md block.

    python scripts/gpu_check.py [--n 50000] [--out gpu_check.md]

1. runs the CUDA tests (tests/unit/test_cuda.py: CUDA features = CPU features within 1e-4 relative;
   diffusers generation batch-size invariant on CUDA);
2. measures inception-v3-tf extraction images/s on the GPU (32x32 uint8 inputs resized to 299, batch 200);
3. times a full FID-50k (tf-fid50k protocol: 50,000 generated + 50,000 reference images, features and
   metrics, nothing cached) -- with seeded random Inception weights unless the real ones are installed,
   which changes the numbers but not the time.
Multi-GPU torchrun timings are not part of it (one GPU is what a session is lent); run
`torchrun --nproc-per-node K -m genbench eval ...` by hand for those.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _weights(tmp: Path) -> tuple[str | None, bool]:
    from genbench.errors import WeightsError
    from genbench.features import weights
    from tests.parity.inception_helpers import random_inception_weights

    try:
        weights.resolve("inception-v3-tf", None, False)
        return None, False
    except WeightsError:
        return str(random_inception_weights(tmp / "inception.pth", seed=0)), True


def _images(n: int, seed: int):
    from tests.parity.inception_helpers import smooth_images

    return smooth_images(n, size=32, seed=seed)  # uint8 [n, 3, 32, 32]


def images_per_s(weights: str | None, n: int = 5000, batch: int = 200) -> float:
    import torch

    from genbench.features.extract import build_extractor, extract

    ext = build_extractor("inception-v3-tf", device="cuda", weights_path=weights, allow_unverified=True)
    x = _images(n, 1)
    extract(ext, x[:batch], batch_size=batch)  # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    extract(ext, x, batch_size=batch)
    torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def fid50k_seconds(weights: str | None, n: int) -> tuple[float, float]:
    import genbench

    fake, real = _images(n, 2), _images(n, 3)
    t0 = time.perf_counter()
    res = genbench.evaluate(fake, real, protocol="tf-fid50k", num_samples=n, device="cuda", batch_size=200,
                            cache_dir=False, allow_unverified=True,
                            weights={"inception-v3-tf": weights} if weights else None)
    return time.perf_counter() - t0, res.value("fid")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_check.md"))
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    name = torch.cuda.get_device_name(0)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests/unit/test_cuda.py")],
                           cwd=ROOT, capture_output=True, text=True)
    print(tests.stdout[-3000:], tests.stderr[-2000:])
    with tempfile.TemporaryDirectory() as d:
        weights, random_w = _weights(Path(d))
        ips = images_per_s(weights)
        secs, fid = fid50k_seconds(weights, args.n)
    lines = [f"GPU check on {name} (torch {torch.__version__}, CUDA {torch.version.cuda}, "
             f"{torch.cuda.device_count()} GPU(s)):",
             f"- CUDA tests: {'passed' if tests.returncode == 0 else 'FAILED'} "
             f"({(tests.stdout.strip().splitlines() or ['no output'])[-1]})",
             f"- inception-v3-tf extraction: {ips:,.0f} images/s (batch 200, 32x32 inputs)",
             f"- FID-{args.n // 1000}k wall time (tf-fid50k, {args.n:,} + {args.n:,} images, no cache): {secs:.1f} s"
             f"{' (random Inception weights)' if random_w else ''}; FID {fid:.3f}"]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    return 0 if tests.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
