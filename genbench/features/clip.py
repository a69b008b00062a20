"""`clip-vit-b-32`: OpenAI CLIP ViT-B/32 (Radford et al. 2021) through open_clip, weights from a local file.

The network is open_clip's `ViT-B-32` with QuickGELU (the OpenAI checkpoints were trained with it; open_clip's
('ViT-B-32', 'openai') entry sets quick_gelu=True). Weights come from the checksummed local store: OpenAI's
TorchScript archive (fp16, converted to float32 here) or a plain state dict. Preprocessing is a tensor
re-implementation of open_clip's eval transform: bicubic antialiased resize of the shorter side to 224 with
uint8 rounding (as PIL does), center crop 224x224, /255, CLIP mean/std. It matches the PIL pipeline to within
one uint8 level on a few pixels (tests/unit/test_extractors.py). Text goes through open_clip's bundled BPE
tokenizer (offline). Embeddings are L2-normalised (CLIPScore, Hessel et al. 2021; CMMD, Jayasumana et al. 2024).
"""
from __future__ import annotations

import logging
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from genbench.errors import InputError, WeightsError
from genbench.features.base import EXTRACTORS, Derived, ExtractorSpec, FeatureExtractor, WeightsInfo
from genbench.features.weights import load_tensors

MODEL_NAME = "ViT-B-32"
IMAGE_SIZE = 224
MEAN = (0.48145466, 0.4578275, 0.40821073)  # open_clip OPENAI_DATASET_MEAN
STD = (0.26862954, 0.26130258, 0.27577711)  # open_clip OPENAI_DATASET_STD
_JIT_EXTRA_KEYS = ("input_resolution", "context_length", "vocab_size")


def clip_architecture() -> torch.nn.Module:
    """open_clip ViT-B-32 with QuickGELU and random weights (float32, eval mode); nothing is downloaded."""
    import open_clip

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # open_clip warns that no pretrained weights were loaded
    try:
        model = open_clip.create_model(MODEL_NAME, pretrained=None, force_quick_gelu=True)
    finally:
        logging.disable(previous)
    return model.float().eval().requires_grad_(False)


def load_clip_state_dict(path: Path, verified: bool = True) -> dict[str, torch.Tensor]:
    """A float32 state dict from OpenAI's TorchScript archive or a plain (optionally 'state_dict'-wrapped) one.

    TorchScript runs code from the archive, so it is read only from a file whose sha256 matched the
    registry (`verified`). An unverified file (--allow-unverified-weights) must be a plain state dict,
    read with torch.load(weights_only=True)."""
    if not verified and _is_torchscript(path):
        raise WeightsError(f"{path}: unverified CLIP weights must be a plain state dict (torch.save of "
                           "model.state_dict()); a TorchScript archive is loaded only when its sha256 matches "
                           "the registry")
    try:
        if verified and _is_torchscript(path):
            with warnings.catch_warnings():  # torch>=2.10 deprecates jit; OpenAI's file is only readable so
                warnings.simplefilter("ignore", FutureWarning)
                sd = torch.jit.load(str(path), map_location="cpu").state_dict()
        else:
            sd = load_tensors(path)
    except Exception as e:  # corrupt archives raise many types
        raise WeightsError(f"{path}: cannot read CLIP weights ({type(e).__name__}: {str(e)[:300]})") from None
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(sd).__name__}")
    sd = {k.removeprefix("module."): v for k, v in sd.items() if k not in _JIT_EXTRA_KEYS}
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def _is_torchscript(path: Path) -> bool:
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def preprocess_images(batch: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float32 [B, 3, 224, 224], equal to open_clip's eval transform up to rounding."""
    import torchvision.transforms.v2.functional as TF
    from torchvision.transforms import InterpolationMode

    x = TF.resize(batch, IMAGE_SIZE, interpolation=InterpolationMode.BICUBIC, antialias=True)  # uint8, short=224
    x = TF.center_crop(x, [IMAGE_SIZE, IMAGE_SIZE])  # [B, 3, 224, 224] uint8
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean) / std


class ClipViTB32(FeatureExtractor):
    name = "clip-vit-b-32"
    version = "1"
    outputs = ("embedding",)
    dims = {"embedding": 512}
    preprocess = ("uint8 -> bicubic antialiased resize of the shorter side to 224 (uint8 rounding, as PIL), "
                  "center crop 224x224, /255, normalise with CLIP mean/std (open_clip ViT-B-32 eval transform)")

    def __init__(self, device: torch.device, weights: WeightsInfo, path: str | Path) -> None:
        super().__init__(device, weights)
        model = clip_architecture()
        try:
            model.load_state_dict(load_clip_state_dict(Path(path), weights.verified), strict=True)
        except RuntimeError as e:
            raise WeightsError(f"{path}: not open_clip ViT-B-32 weights ({str(e)[:300]})") from None
        self.model = model.to(device)
        self._tokenizer = None

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        x = preprocess_images(batch)  # [B, 3, 224, 224] float32
        emb = self.model.encode_image(x, normalize=True)  # [B, 512] float32, unit norm
        return {"embedding": emb.float()}

    def encode_text(self, prompts: list[str], batch_size: int = 256) -> np.ndarray:
        """L2-normalised text embeddings, float32 [N, 512]; prompts longer than 77 tokens are truncated."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise InputError("prompts: expected a list of strings")
        if self._tokenizer is None:
            import open_clip

            self._tokenizer = open_clip.get_tokenizer(MODEL_NAME)
        parts = [np.zeros((0, self.model.text_projection.shape[1]), np.float32)]
        with torch.inference_mode():
            for i in range(0, len(prompts), batch_size):
                tokens = self._tokenizer(list(prompts[i:i + batch_size])).to(self.device)  # [b, 77] int64
                parts.append(self.model.encode_text(tokens, normalize=True).float().cpu().numpy())
        return np.concatenate(parts)  # [N, 512] float32


def _hessel() -> str:
    from genbench.metrics.clip_score import HESSEL_PREFIX

    return HESSEL_PREFIX


def _text(ctx, prefix: str) -> np.ndarray:
    """CLIP text embeddings [N, 512] of the fake set's prompts, each prefixed by `prefix`."""
    return ctx.extractor().encode_text([prefix + p for p in ctx.prompts])


def _build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
    if path is None:
        raise WeightsError("clip-vit-b-32 needs a weights file (resolved by genbench.features.weights)")
    return ClipViTB32(device, weights, path)


EXTRACTORS.add("clip-vit-b-32", ExtractorSpec(
    name="clip-vit-b-32", build=_build, weights_name="clip-vit-b-32", outputs=ClipViTB32.outputs,
    description="OpenAI CLIP ViT-B/32 (open_clip): L2-normalised 512-d image embedding; encode_text for prompts",
    provides={"clip": Derived(("embedding",), lambda ctx: ctx.role("embedding")),
              "text": Derived(("extractor", "prompts"), lambda ctx: _text(ctx, ""), sets=("fake",)),
              "text_hessel": Derived(("extractor", "prompts"), lambda ctx: _text(ctx, _hessel()), sets=("fake",))},
))
