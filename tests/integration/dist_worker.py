"""Run under torchrun by test_torchrun.py: rank 1 raises; the job must end non-zero with its message.

mode 'guarded': rank 1 fails inside distributed.guarded while rank 0 goes on to gather_rows.
mode 'bare': rank 1 fails outside any guard while rank 0 blocks in gather_rows (torchrun stops it).
"""
import sys

import numpy as np

from genbench import distributed
from genbench.errors import InputError


def work(mode: str) -> int:
    def local() -> np.ndarray:
        if distributed.rank() == 1:
            raise InputError("shard.npz: rank one cannot read image 7")
        return np.ones((2, 3))

    x = distributed.guarded(local) if mode == "guarded" else (local() if distributed.rank() == 1 else np.ones((2, 3)))
    distributed.gather_rows(x)
    print("finished", flush=True)
    return 0


if __name__ == "__main__":
    from genbench.cli import _dispatch  # noqa: F401  (the same error printing as the CLI)
    from genbench.errors import GenbenchError

    def cmd() -> int:
        try:
            return work(sys.argv[1])
        except GenbenchError as e:
            print(f"genbench test: error: {distributed.rank_label()}{e}", file=sys.stderr)
            return e.exit_code

    sys.exit(distributed.run_command(cmd, "cpu"))
