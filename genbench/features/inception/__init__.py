"""Inception-v3 feature extractors: the TF-2015 graph port (`net`), torch-fidelity's protocol (`tf`) and
clean-fid's (`clean`). `tf` and `clean` each register one extractor; `net` is the shared network.
May import: the core and `genbench.features.base`.
"""
