"""Imports every metric module so that each registers itself. The only file that lists them."""
from genbench.metrics import (clip_score, cmmd, fd, inception_score, kid, memorisation,  # noqa: F401
                              modes, ndb, prdc, ssim, vendi)
