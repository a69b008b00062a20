"""Run under torchrun by test_torchrun.py: traps of distributed use. argv: mode [args].

mismatch: every rank calls evaluate() on fake<rank>.npz (rank 1 reads another file): must end with exit 2.
generate-mismatch: generate_sharded with another checkpoint on each rank: exit 2 naming the fact in full.
rank0-only: the group exists but only rank 0 calls evaluate(); the others wait in a barrier: rank 0 must
            fail within GENBENCH_AGREE_TIMEOUT_S, not wait forever.
snippet: the README's Evaluator use without a process group: each process scores its own images, and
         rank 0 warns once that the ranks are independent.
"""
import json
import sys

import numpy as np

import genbench
from genbench import distributed


def mismatch() -> int:
    r = genbench.evaluate(f"fake{distributed.rank()}.npz", "real.npz", extractor="digits-classifier", metrics="fd",
                          bootstrap=0, batch_size=16, device="cpu", cache_dir=False)
    r.save("mismatch.json")
    return 0


def generate_mismatch() -> int:
    """Each rank samples "its" checkpoint (the sha256 differs by rank): generate must refuse to gather."""
    facts = {"model": {"checkpoint_sha256": f"{distributed.rank()}" * 64}, "sampler": {"steps": 10}}
    distributed.generate_sharded(list(range(8)), lambda part: (np.zeros((len(part), 2)), None), 4, facts=facts)
    return 0


def rank0_only() -> int:
    if distributed.is_main():
        genbench.evaluate("fake0.npz", "real.npz", extractor="digits-classifier", metrics="fd", bootstrap=0,
                          batch_size=16, device="cpu", cache_dir=False)
    else:
        distributed.barrier()
    return 0


def snippet() -> int:
    with np.load("fake0.npz") as z:
        x = z["arr_0"].transpose(0, 3, 1, 2)  # [N, 3, H, W] uint8
    ev = genbench.Evaluator(reference="real.npz", extractor="digits-classifier", metrics="fd", bootstrap=0,
                            batch_size=16, device="cpu")
    ev.update(x)
    print(json.dumps({"n": len(ev), "fd": ev.compute().value("fd")}), flush=True)
    return 0


if __name__ == "__main__":
    from genbench.errors import GenbenchError

    mode = sys.argv[1]
    if mode == "snippet":
        sys.exit(snippet())

    def cmd() -> int:
        try:
            return {"mismatch": mismatch, "rank0-only": rank0_only, "generate-mismatch": generate_mismatch}[mode]()
        except GenbenchError as e:
            print(f"genbench test: error: {distributed.rank_label()}{e}", file=sys.stderr)
            return e.exit_code

    sys.exit(distributed.run_command(cmd, "cpu"))
