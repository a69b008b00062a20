"""Run under torchrun by test_torchrun.py: each rank streams its contiguous block of images into a
genbench.Evaluator (in uneven batches) and rank 0 writes the result JSON. argv: fake ref out [keep]."""
import sys

import numpy as np

import genbench
from genbench import distributed


def main(fake_path: str, ref_path: str, out: str, keep: str = "features") -> int:
    with np.load(fake_path) as z:
        fake = z["arr_0"].transpose(0, 3, 1, 2)  # [N, 3, H, W] uint8
    ev = genbench.Evaluator(reference=ref_path, extractor="digits-classifier", metrics="fd,kd,classifier_score",
                            bootstrap=10, batch_size=16, device="cpu", keep_images=keep == "keep")
    part = distributed.shard(len(fake), block=16)  # contiguous whole batches: rank order = image order
    for i in range(part.start, part.stop, 7):
        ev.update(fake[i:min(i + 7, part.stop)])
    result = ev.compute()  # every rank
    result.save(out)  # rank 0 writes
    return 0


if __name__ == "__main__":
    sys.exit(distributed.run_command(lambda: main(*sys.argv[1:5]), "cpu"))
