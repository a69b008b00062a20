"""`python -m genbench ...` (and `torchrun --nproc-per-node K -m genbench ...`): the genbench CLI."""
import sys

from genbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
