"""genbench `dinov2-vit-l-14` == the official DINOv2 ViT forward and EDM2's preprocessing, seeded random weights.

Oracles ported into this file (maths only, no package code):
- `official_forward`: facebookresearch/dinov2 `dinov2/models/vision_transformer.py` (DinoVisionTransformer:
  prepare_tokens_with_masks, interpolate_pos_encoding, forward -> head(x_norm_clstoken)) with
  `dinov2/layers/{patch_embed,attention,block,mlp,layer_scale}.py` (explicit softmax attention, LayerScale,
  GELU MLP, LayerNorm eps 1e-6), reading an official-format state dict directly.
- `edm2_preprocess`: NVlabs/edm2 `calculate_metrics.py`, the DINOv2 detector's `__call__` (both resize modes).
The network parity runs a down-scaled config (dim 64, 2 blocks, 4 heads) through the same code path as ViT-L/14
(same patch size, 37x37 checkpoint grid, 224 input); the full ViT-L/14 shape is checked against timm's
registered `vit_large_patch14_dinov2` on the meta device (no memory), and a full-size forward is marked slow.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

pytest.importorskip("timm")

from genbench.errors import WeightsError  # noqa: E402
from genbench.features import dinov2  # noqa: E402
from genbench.features.base import WeightsInfo  # noqa: E402
from tests.parity.inception_helpers import smooth_images  # noqa: E402

TINY = dinov2.ViTConfig(embed_dim=64, depth=2, num_heads=4)
EPS = 1e-6


def official_state_dict(cfg: dinov2.ViTConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under the official checkpoint's names and shapes (including mask_token)."""
    g = torch.Generator().manual_seed(seed)
    d, p, m = cfg.embed_dim, cfg.patch_size, cfg.checkpoint_grid

    def rnd(*shape: int, scale: float = 0.02, offset: float = 0.0) -> torch.Tensor:
        return offset + scale * torch.randn(*shape, generator=g)

    sd = {"cls_token": rnd(1, 1, d, scale=0.5), "pos_embed": rnd(1, 1 + m * m, d, scale=0.5),
          "mask_token": rnd(1, d), "patch_embed.proj.weight": rnd(d, 3, p, p, scale=0.05),
          "patch_embed.proj.bias": rnd(d), "norm.weight": rnd(d, scale=0.1, offset=1.0), "norm.bias": rnd(d)}
    for i in range(cfg.depth):
        b = f"blocks.{i}."
        sd.update({b + "norm1.weight": rnd(d, scale=0.1, offset=1.0), b + "norm1.bias": rnd(d),
                   b + "attn.qkv.weight": rnd(3 * d, d, scale=d ** -0.5), b + "attn.qkv.bias": rnd(3 * d),
                   b + "attn.proj.weight": rnd(d, d, scale=d ** -0.5), b + "attn.proj.bias": rnd(d),
                   b + "ls1.gamma": rnd(d, scale=0.1, offset=0.5), b + "norm2.weight": rnd(d, scale=0.1, offset=1.0),
                   b + "norm2.bias": rnd(d), b + "mlp.fc1.weight": rnd(4 * d, d, scale=d ** -0.5),
                   b + "mlp.fc1.bias": rnd(4 * d), b + "mlp.fc2.weight": rnd(d, 4 * d, scale=(4 * d) ** -0.5),
                   b + "mlp.fc2.bias": rnd(d), b + "ls2.gamma": rnd(d, scale=0.1, offset=0.5)})
    return sd


def _official_pos(sd: dict[str, torch.Tensor], x: torch.Tensor, w: int, h: int, cfg: dinov2.ViTConfig) -> torch.Tensor:
    """DinoVisionTransformer.interpolate_pos_encoding (interpolate_offset 0.1, antialias False)."""
    npatch, n = x.shape[1] - 1, sd["pos_embed"].shape[1] - 1
    if npatch == n and w == h:
        return sd["pos_embed"]
    pos = sd["pos_embed"].float()
    dim = x.shape[-1]
    w0, h0 = w // cfg.patch_size, h // cfg.patch_size
    m = int(math.sqrt(n))
    sx, sy = float(w0 + 0.1) / m, float(h0 + 0.1) / m
    patch = F.interpolate(pos[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2), scale_factor=(sx, sy),
                          mode="bicubic", antialias=False)
    patch = patch.permute(0, 2, 3, 1).view(1, -1, dim)
    return torch.cat((pos[:, 0].unsqueeze(0), patch), dim=1)


def official_forward(sd: dict[str, torch.Tensor], img: torch.Tensor, cfg: dinov2.ViTConfig) -> torch.Tensor:
    """float [B, 3, H, W] normalised -> CLS after the final norm [B, D], as the official hub model returns."""
    b, _, w, h = img.shape
    d, heads = cfg.embed_dim, cfg.num_heads
    x = F.conv2d(img, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=cfg.patch_size)
    x = x.flatten(2).transpose(1, 2)  # [B, N, D]
    x = torch.cat((sd["cls_token"].expand(b, -1, -1), x), dim=1)
    x = x + _official_pos(sd, x, w, h, cfg)
    for i in range(cfg.depth):
        p = f"blocks.{i}."
        y = F.layer_norm(x, (d,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], EPS)
        n = y.shape[1]
        qkv = F.linear(y, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"])
        qkv = qkv.reshape(b, n, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * (d // heads) ** -0.5, qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, n, d)
        x = x + F.linear(y, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"]) * sd[p + "ls1.gamma"]
        y = F.layer_norm(x, (d,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], EPS)
        y = F.linear(F.gelu(F.linear(y, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                     sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
        x = x + y * sd[p + "ls2.gamma"]
    return F.layer_norm(x, (d,), sd["norm.weight"], sd["norm.bias"], EPS)[:, 0]


def edm2_preprocess(x: torch.Tensor, resize_mode: str) -> torch.Tensor:
    """EDM2's DINOv2 detector before the network: resize to 224, /255, ImageNet mean/std."""
    if resize_mode == "pil":
        arr = x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        arr = np.stack([np.uint8(Image.fromarray(a).resize((224, 224), Image.Resampling.BICUBIC)) for a in arr])
        x = torch.from_numpy(arr).permute(0, 3, 1, 2)
    else:
        x = F.interpolate(x.to(torch.float32), size=(224, 224), mode="bicubic", antialias=True)
    x = x.to(torch.float32) / 255
    x = x - torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32).reshape(1, -1, 1, 1)
    return x / torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32).reshape(1, -1, 1, 1)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    sd = official_state_dict(TINY, seed=0)
    path = tmp_path_factory.mktemp("dinov2") / "tiny_dinov2.pth"
    torch.save(sd, path)
    return path, sd


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return smooth_images(3, size=40, seed=11)  # [3, 3, 40, 40] uint8


@pytest.mark.parametrize("resize_mode", dinov2.RESIZE_MODES)
def test_preprocess_equals_edm2(images: np.ndarray, resize_mode: str) -> None:
    x = torch.from_numpy(images)
    ours = dinov2.preprocess(x, resize_mode)
    ref = edm2_preprocess(x, resize_mode)
    assert ours.shape == (3, 3, 224, 224) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=1e-6)


def test_resize_modes_differ(images: np.ndarray) -> None:
    x = torch.from_numpy(images)
    assert (dinov2.preprocess(x, "torch") - dinov2.preprocess(x, "pil")).abs().max() > 1e-3


def test_mapped_timm_network_equals_official(tiny_checkpoint, images: np.ndarray) -> None:
    path, sd = tiny_checkpoint
    net = dinov2.load_vit(path, TINY)
    x = edm2_preprocess(torch.from_numpy(images), "torch")
    with torch.inference_mode():
        ours, ref = net(x), official_forward(sd, x, TINY)
    assert ours.shape == (3, TINY.embed_dim)
    assert ref.std(dim=0).mean() > 0.05  # CLS varies from image to image
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=5e-6)


def test_pos_embed_mapping_is_the_official_interpolation(tiny_checkpoint) -> None:
    """Precomputed once = the official per-forward interpolation; timm's own resampling would differ."""
    from timm.layers import resample_abs_pos_embed

    _, sd = tiny_checkpoint
    tokens = torch.zeros(1, 1 + 16 * 16, TINY.embed_dim)
    ref = _official_pos(sd, tokens, 224, 224, TINY)
    ours = dinov2.interpolate_pos_embed(sd["pos_embed"], TINY)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)
    timm_default = resample_abs_pos_embed(sd["pos_embed"], [16, 16], num_prefix_tokens=1)
    assert (timm_default - ref).abs().max() > 1e-3


def test_extractor_end_to_end(tiny_checkpoint, images: np.ndarray) -> None:
    path, sd = tiny_checkpoint
    for cls in (dinov2.DINOv2ViTL14, dinov2.DINOv2ViTL14PIL):
        tiny_cls = type("Tiny", (cls,), {"config": TINY})
        ext = tiny_cls(torch.device("cpu"), WeightsInfo("dinov2-vit-l-14", None, False, str(path)), path)
        got = np.concatenate([o["embedding"] for o in ext.run_batches(iter([images[:2], images[2:]]))])
        with torch.inference_mode():
            ref = official_forward(sd, edm2_preprocess(torch.from_numpy(images), cls.resize_mode), TINY)
        np.testing.assert_allclose(got, ref.numpy(), rtol=0, atol=5e-6)


def test_rejects_wrong_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    torch.save({"pos_embed": torch.zeros(1, 5, 64)}, bad)
    with pytest.raises(WeightsError, match="pos_embed"):
        dinov2.load_vit(bad, TINY)
    sd = official_state_dict(TINY)
    del sd["blocks.0.ls1.gamma"]
    torch.save(sd, bad)
    with pytest.raises(WeightsError, match="not an official DINOv2"):
        dinov2.load_vit(bad, TINY)


def test_unpinned_checkpoint_needs_allow_unverified(tiny_checkpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    from genbench.features import weights

    path, _ = tiny_checkpoint
    monkeypatch.setenv("GENBENCH_HOME", str(path.parent / "home"))
    with pytest.raises(WeightsError, match="allow-unverified-weights"):
        weights.resolve("dinov2-vit-l-14", path)
    _, info = weights.resolve("dinov2-vit-l-14", path, allow_unverified=True)
    assert info.verified is False and info.sha256 == weights.sha256_file(path)


def test_vit_l_14_shape_equals_timm_dinov2() -> None:
    """The full config builds timm's registered DINOv2 ViT-L/14 (at 224) with the official parameter shapes."""
    import timm

    with torch.device("meta"):
        ours = dinov2.build_vit(dinov2.VIT_L_14)
        reg = timm.create_model("vit_large_patch14_dinov2", pretrained=False, img_size=224, num_classes=0)
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in reg.state_dict().items()}
    official = {k: tuple(v.shape) for k, v in official_state_dict(dinov2.ViTConfig(depth=1), seed=0).items()}
    official.pop("mask_token")
    official["pos_embed"] = (1, 1 + 16 * 16, 1024)
    assert {k: v for k, v in shapes.items() if not k.startswith("blocks.") or k.startswith("blocks.0.")} == official
    assert sum(math.prod(s) for s in shapes.values()) > 300e6  # ~304M parameters


@pytest.mark.slow
def test_vit_l_14_full_size_forward(tmp_path: Path) -> None:
    sd = official_state_dict(dinov2.VIT_L_14, seed=1)
    path = tmp_path / "dinov2_vitl14_random.pth"
    torch.save(sd, path)
    net = dinov2.load_vit(path)
    x = edm2_preprocess(torch.from_numpy(smooth_images(1, size=64, seed=2)), "torch")
    with torch.inference_mode():
        ours, ref = net(x), official_forward(sd, x, dinov2.VIT_L_14)
    assert ours.shape == (1, 1024)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=1e-4)
