"""Sample sets: where images come from, and the image contract they all meet.

Holds: `samples` (SampleSet, open_samples, fingerprints), `images` (uint8 [N, 3, H, W] contract),
`decode` (one image file, safely), `export` (PNG folder / ADM .npz writer), `diffusers` (a diffusers
pipeline as a source).
May import: the core (errors, io, registry, numerics, seeding, distributed, paths) and `genbench.data`.
Never imports evaluation, comparison, boards or the CLI.
"""
