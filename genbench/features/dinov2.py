"""`dinov2-vit-l-14`: DINOv2 ViT-L/14 CLS features, the FD_DINOv2 feature space of EDM2 and dgm-eval.

Papers: Oquab et al. 2023 (DINOv2); Stein et al. 2023 (dgm-eval, "Exposing flaws of generative model
evaluation metrics", which recommends it over Inception); Karras et al. 2024 (EDM2, whose headline metric is
FD_DINOv2). Reference code: facebookresearch/dinov2 `dinov2/models/vision_transformer.py` and `hubconf.py`
(`dinov2_vitl14`: img_size 518, patch 14, LayerScale, MLP FFN, no registers, interpolate_offset 0.1, no
antialias); NVlabs/edm2 `calculate_metrics.py` (its DINOv2 detector: preprocessing and CLS output).

Network: timm's VisionTransformer with the ViT-L/14 DINOv2 shape (`vit_large_patch14_dinov2`: dim 1024,
24 blocks, 16 heads, LayerScale), built without pretrained weights at a fixed 224x224 input, then loaded from
Meta's official checkpoint `dinov2_vitl14_pretrain.pth` (a local file, sha256-checked; never downloaded
silently). Key mapping official -> timm (`map_official_state_dict`):
  - every parameter keeps its name (patch_embed.proj, cls_token, blocks.N.{norm1,attn.qkv,attn.proj,ls1.gamma,
    norm2,mlp.fc1,mlp.fc2,ls2.gamma}, norm) -- timm uses DINOv2's names;
  - `mask_token` (used only for masked training) is dropped;
  - `pos_embed` [1, 1 + 37*37, 1024] becomes [1, 1 + 16*16, 1024] by exactly the interpolation the official
    model runs at every 224x224 forward (`interpolate_pos_encoding`: bicubic, scale factor (16 + 0.1) / 37,
    no antialias, computed in float32). Doing it once at load time gives the same tensor; timm's own
    resampling (output size, antialias on) would not.
Output: the CLS token after the final LayerNorm, 1024-d (what the official forward returns with its identity
head, and what EDM2's detector uses).

Preprocessing (EDM2 `calculate_metrics.py`, DINOv2 detector), then ImageNet normalisation
(x / 255 - mean) / std with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), in float32:
  - `dinov2-vit-l-14` (EDM2's default resize_mode 'torch'): torch bicubic resize to 224x224 with antialias, in
    float32, not clipped or re-quantised;
  - `dinov2-vit-l-14-pil` (EDM2's resize_mode 'pil', which matches the original dgm-eval exactly): PIL bicubic
    resize of the uint8 RGB image to 224x224, re-quantised to uint8.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from genbench.errors import ConfigError, WeightsError
from genbench.features.base import EXTRACTORS, ExtractorSpec, FeatureExtractor, WeightsInfo
from genbench.features.weights import load_tensors

SIZE = 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RESIZE_MODES = ("torch", "pil")


@dataclass(frozen=True)
class ViTConfig:
    """Shape of a DINOv2 ViT; the official checkpoint's pos_embed grid is `checkpoint_grid` x `checkpoint_grid`."""

    embed_dim: int = 1024
    depth: int = 24
    num_heads: int = 16
    patch_size: int = 14
    img_size: int = SIZE
    checkpoint_grid: int = 37  # 518 / 14
    interpolate_offset: float = 0.1


VIT_L_14 = ViTConfig()


def _timm_version() -> str:
    try:
        return _pkg_version("timm")
    except PackageNotFoundError:
        return "missing"


def interpolate_pos_embed(pos_embed: torch.Tensor, cfg: ViTConfig) -> torch.Tensor:
    """Official DINOv2 pos_embed [1, 1 + M*M, D] -> [1, 1 + g*g, D] for a square input of cfg.img_size.

    The maths of `interpolate_pos_encoding` in dinov2/models/vision_transformer.py: bicubic, scale factor
    (g + offset) / M, antialias off, float32; the class position is kept as is.
    """
    m, g = cfg.checkpoint_grid, cfg.img_size // cfg.patch_size
    dim = pos_embed.shape[-1]
    if pos_embed.shape != (1, 1 + m * m, dim):
        raise WeightsError(f"pos_embed has shape {tuple(pos_embed.shape)}, expected (1, {1 + m * m}, {dim})")
    pe = pos_embed.float()
    if g == m:
        return pe
    scale = (g + cfg.interpolate_offset) / m
    grid = pe[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2)  # [1, D, M, M]
    grid = F.interpolate(grid, scale_factor=(scale, scale), mode="bicubic", antialias=False)  # [1, D, g, g]
    if grid.shape[-2:] != (g, g):
        raise WeightsError(f"pos_embed interpolation gave a {tuple(grid.shape[-2:])} grid, expected ({g}, {g})")
    return torch.cat([pe[:, :1], grid.permute(0, 2, 3, 1).reshape(1, g * g, dim)], dim=1)  # [1, 1 + g*g, D]


def map_official_state_dict(sd: dict[str, torch.Tensor], cfg: ViTConfig) -> dict[str, torch.Tensor]:
    """Meta's DINOv2 checkpoint keys -> timm VisionTransformer keys (see the module docstring)."""
    out = {k: v for k, v in sd.items() if k != "mask_token"}
    if "pos_embed" not in out:
        raise WeightsError("no 'pos_embed' in the checkpoint: not an official DINOv2 state dict")
    out["pos_embed"] = interpolate_pos_embed(out["pos_embed"], cfg)
    return out


def build_vit(cfg: ViTConfig) -> torch.nn.Module:
    """timm's VisionTransformer in the DINOv2 layout (no classifier head: the output is the normed CLS token)."""
    try:
        from timm.models.vision_transformer import VisionTransformer
    except ImportError:
        raise ConfigError("the dinov2 extractors need timm: pip install 'genbench[dinov2]'") from None
    return VisionTransformer(img_size=cfg.img_size, patch_size=cfg.patch_size, embed_dim=cfg.embed_dim,
                             depth=cfg.depth, num_heads=cfg.num_heads, init_values=1e-5, num_classes=0,
                             global_pool="token")


def load_vit(path: Path | str, cfg: ViTConfig = VIT_L_14) -> torch.nn.Module:
    """timm ViT loaded from an official DINOv2 checkpoint file (plain tensors only: weights_only=True)."""
    try:
        sd = load_tensors(path)
    except Exception as e:  # pickle and zip errors come in many types
        raise WeightsError(f"{path}: not a plain tensor state dict ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(sd, dict):
        raise WeightsError(f"{path}: expected a state dict, got {type(sd).__name__}")
    net = build_vit(cfg)
    try:
        net.load_state_dict(map_official_state_dict(sd, cfg), strict=True)
    except RuntimeError as e:
        raise WeightsError(f"{path}: not an official DINOv2 ViT checkpoint of this shape ({str(e)[:300]})") from None
    return net.eval().requires_grad_(False)


def preprocess(batch: torch.Tensor, resize_mode: str = "torch") -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float32 [B, 3, 224, 224], resized and ImageNet-normalised as EDM2 does."""
    if resize_mode == "pil":
        arr = batch.cpu().permute(0, 2, 3, 1).numpy()  # [B, H, W, 3] uint8
        arr = np.stack([np.asarray(Image.fromarray(img).resize((SIZE, SIZE), Image.Resampling.BICUBIC))
                        for img in arr])  # [B, 224, 224, 3] uint8
        x = torch.from_numpy(arr).permute(0, 3, 1, 2).to(batch.device)
    elif resize_mode == "torch":
        x = F.interpolate(batch.to(torch.float32), size=(SIZE, SIZE), mode="bicubic", antialias=True)
    else:
        raise ConfigError(f"resize mode {resize_mode!r}: use one of {', '.join(RESIZE_MODES)}")
    x = x.to(torch.float32) / 255
    x = x - torch.tensor(MEAN, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    return x / torch.tensor(STD, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)


class DINOv2ViTL14(FeatureExtractor):
    name = "dinov2-vit-l-14"
    resize_mode = "torch"
    config = VIT_L_14
    outputs = ("embedding",)
    dims = {"embedding": 1024}
    version = f"1/timm-{_timm_version()}"
    preprocess = ("uint8 -> float32; torch bicubic resize with antialias to 224x224 (EDM2 resize_mode 'torch'); "
                  "x / 255, ImageNet mean/std; CLS token after the final LayerNorm (1024-d)")

    def __init__(self, device: torch.device, weights: WeightsInfo, path: str | Path) -> None:
        super().__init__(device, weights)
        self.net = load_vit(path, self.config).to(device)

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        x = preprocess(batch.to(self.device), self.resize_mode)  # [B, 3, 224, 224]
        return {"embedding": self.net(x)}  # [B, 1024] float32


class DINOv2ViTL14PIL(DINOv2ViTL14):
    name = "dinov2-vit-l-14-pil"
    resize_mode = "pil"
    preprocess = ("uint8 RGB; PIL bicubic resize to 224x224, re-quantised to uint8 (EDM2 resize_mode 'pil' = "
                  "dgm-eval); x / 255, ImageNet mean/std; CLS token after the final LayerNorm (1024-d)")


def _builder(cls: type[DINOv2ViTL14]):  # noqa: ANN202
    def build(device: torch.device, weights: WeightsInfo, path: str | None) -> FeatureExtractor:
        if path is None:
            raise WeightsError(f"{cls.name} needs a weights file (resolved by genbench.features.weights)")
        return cls(device, weights, path)
    return build


for _cls, _how in ((DINOv2ViTL14, "torch antialiased bicubic resize (EDM2 default)"),
                   (DINOv2ViTL14PIL, "PIL bicubic uint8 resize (EDM2 'pil' mode, dgm-eval)")):
    EXTRACTORS.add(_cls.name, ExtractorSpec(
        name=_cls.name, build=_builder(_cls), weights_name="dinov2-vit-l-14", outputs=_cls.outputs,
        description=f"DINOv2 ViT-L/14 (timm, official weights) CLS 1024-d at 224x224; {_how}",
    ))
