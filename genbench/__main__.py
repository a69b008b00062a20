"""`python -m genbench ...` (and `torchrun --nproc-per-node K -m genbench ...`): the genbench CLI."""
from genbench.cli import program

if __name__ == "__main__":
    program()
