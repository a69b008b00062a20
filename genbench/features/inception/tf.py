"""`inception-v3-tf`: the TF-2015-12-05 Inception-v3 graph as ported by torch-fidelity.

Matches torch-fidelity's `FeatureExtractorInceptionV3` ('inception-v3-compat') exactly, because it *is* that
network: genbench only wraps it, loads the weights from the checksummed local store (never from the
network) and names the outputs. It runs torch-fidelity's blocks with faster, bit-identical CPU scheduling
(genbench.features.inception.net). The TF-exact preprocessing lives in torch-fidelity's forward: uint8 -> float32,
TF1-compatible bilinear resize to 299x299 (align_corners=False, no antialias), then (x - 128) / 128.
Heusel et al. 2017 (FID), Salimans et al. 2016 (IS), Binkowski et al. 2018 (KID) use these features.
"""
from __future__ import annotations

import abc
from importlib.metadata import version as _pkg_version
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from genbench.errors import WeightsError
from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo
from genbench.features.inception.net import BODY, SIZE, STEM, head, normalise, prefetch, run_layers, spare_core
from genbench.numerics import deterministic_cuda
from genbench.features.weights import load_tensors

_TF_NAME = "inception-v3-compat"
_TF_FEATURES = ("2048", "logits_unbiased")  # pool3, logits without the fc bias (torch-fidelity's IS input)


class TFInceptionBase(FeatureExtractor):
    """torch-fidelity's TF Inception-v3 behind a `prepare` step (resize + normalise) that subclasses choose.

    `run_batches` runs stage 1 (prepare + stem) of batch i+1 in a background thread while stage 2 (Mixed
    blocks) runs batch i, and the CPU pooling kernels are swapped for bit-identical faster ones
    (genbench.features.inception.net).
    """

    outputs = ("embedding", "logits")
    dims = {"embedding": 2048, "logits": 1008}

    def __init__(self, device: torch.device, weights: WeightsInfo, path: str | Path) -> None:
        super().__init__(device, weights)
        if not weights.verified:
            _refuse_pickled_code(Path(path))
        deterministic_cuda(device)
        self.net = _torch_fidelity_net(Path(path)).to(device)

    @abc.abstractmethod
    def prepare(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, H, W] -> float32 [B, 3, 299, 299] in [-1, 1] on self.device."""

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._stage2(self._stage1(batch))

    def _stage1(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, H, W] -> stem output float32 [B, 192, 35, 35] (resize, normalise, stem layers)."""
        return run_layers(self.net, STEM, self.prepare(batch))

    def _stage2(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        pool3, logits = head(self.net, run_layers(self.net, BODY, x))  # [B, 2048], [B, 1008] float32
        return {"embedding": pool3, "logits": logits}

    def _stage1_array(self, batch: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return self._stage1(torch.from_numpy(np.require(batch, requirements=["C", "W"])))

    def run_batches(self, batches: Iterator[np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
        overlap = self.device.type != "cpu" or spare_core()  # on CPU only where a core is free for stage 1
        staged = prefetch(batches, self._stage1_array) if overlap else map(self._stage1_array, batches)
        for x in staged:  # with overlap: stage 1 of batch i+1 runs while stage 2 of batch i does
            with torch.inference_mode():
                out = self._stage2(x)
            yield {k: v.detach().float().cpu().numpy() for k, v in out.items()}


class InceptionV3TF(TFInceptionBase):
    name = "inception-v3-tf"
    version = f"1/torch-fidelity-{_pkg_version('torch-fidelity')}"
    preprocess = ("uint8 -> float32; TF1-compatible bilinear resize to 299x299 (align_corners=False, no "
                  "antialias); (x - 128) / 128 (torch-fidelity FeatureExtractorInceptionV3)")

    def prepare(self, batch: torch.Tensor) -> torch.Tensor:
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

        x = batch.to(self.device).to(torch.float32)  # [B, 3, H, W]
        x = interpolate_bilinear_2d_like_tensorflow1x(x, size=(SIZE, SIZE), align_corners=False)
        return normalise(x)  # [B, 3, 299, 299]


def _torch_fidelity_net(path: Path) -> torch.nn.Module:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    try:
        return FeatureExtractorInceptionV3(_TF_NAME, list(_TF_FEATURES), feature_extractor_weights_path=str(path))
    except (RuntimeError, KeyError, EOFError, OSError) as e:
        raise WeightsError(f"{path}: not a state dict of torch-fidelity's Inception-v3 ({type(e).__name__}: "
                           f"{str(e)[:300]})") from None


def _refuse_pickled_code(path: Path) -> None:
    """torch-fidelity loads with weights_only=False; an unverified file must at least be plain tensors."""
    try:
        load_tensors(path)
    except Exception as e:  # pickle errors come in many types
        raise WeightsError(f"{path}: unverified weights file is not a plain tensor state dict, refusing to "
                           f"unpickle it ({type(e).__name__})") from None


def build_tf_inception(cls: type[TFInceptionBase], device: torch.device, weights: WeightsInfo,
                       path: str | None) -> FeatureExtractor:
    if path is None:
        raise WeightsError(f"{cls.name} needs a weights file (resolved by genbench.features.weights)")
    return cls(device, weights, path)


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    return build_tf_inception(InceptionV3TF, device, weights, path)


EXTRACTORS.add("inception-v3-tf", ExtractorSpec(
    name="inception-v3-tf", build=_build, weights_name="inception-v3-tf", outputs=InceptionV3TF.outputs,
    description="TF Inception-v3 (torch-fidelity port): pool3 2048-d embedding, 1008 unbiased logits",
    traits=frozenset({"inception"}),
))
