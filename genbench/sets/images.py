"""The image contract: everything that crosses a boundary is uint8 [N, 3, H, W], RGB, 0..255.

Grayscale is expanded to 3 channels here and nowhere else; alpha is dropped with a warning; float
input needs an explicit value range and is rounded (never truncated).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from genbench.errors import InputError

VALUE_RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0), "0,255": (0.0, 255.0)}
_RANGE_TOL = 1e-3


def _to_numpy(x: Any, where: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor without importing torch here
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise InputError(f"{where}: expected a numpy array or torch tensor, got {type(x).__name__}")


def _guess_layout(shape: tuple[int, ...]) -> str:
    """NCHW unless only the last axis looks like channels; ambiguous shapes default to NCHW (the contract)."""
    c_first, c_last = shape[1] in (1, 3, 4), shape[-1] in (1, 3, 4)
    if c_last and (not c_first or (shape[-1] == 3 and shape[1] != 3)):
        return "NHWC"
    if c_first:
        return "NCHW"
    raise InputError(f"cannot tell the channel axis of shape {shape}: expected 1, 3 or 4 channels")


def _as_nchw(a: np.ndarray, layout: str, where: str) -> np.ndarray:
    if a.ndim == 3:  # [N, H, W] grayscale
        a = a[:, None]
        layout = "NCHW"
    if a.ndim != 4:
        raise InputError(f"{where}: expected images of shape [N,H,W], [N,C,H,W] or [N,H,W,C], got {a.shape}")
    if layout == "auto":
        try:
            layout = _guess_layout(a.shape)
        except InputError as e:
            raise InputError(f"{where}: {e}") from None
    if layout == "NHWC":
        a = a.transpose(0, 3, 1, 2)
    elif layout != "NCHW":
        raise InputError(f"{where}: unknown layout {layout!r} (use NCHW, NHWC or auto)")
    return a


def _fix_channels(a: np.ndarray, where: str) -> np.ndarray:
    c = a.shape[1]
    if c == 1:
        return np.repeat(a, 3, axis=1)
    if c == 4:
        warnings.warn(f"{where}: dropping the alpha channel of RGBA images", stacklevel=3)
        return a[:, :3]
    if c == 3:
        return a
    raise InputError(f"{where}: images have {c} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)")


def float_to_uint8(a: np.ndarray, value_range: str | None, where: str) -> np.ndarray:
    """Map float images in an explicit range to uint8 by rounding to nearest (half to even)."""
    if value_range is None:
        raise InputError(
            f"{where}: float images need an explicit value range (value_range='0,1' or '-1,1'; CLI --value-range)")
    if value_range not in VALUE_RANGES:
        raise InputError(f"{where}: unknown value range {value_range!r} (use '0,1', '-1,1' or '0,255')")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{where}: images contain NaN or Inf values")
    lo, hi = VALUE_RANGES[value_range]
    amin, amax = float(a.min(initial=lo)), float(a.max(initial=hi))
    span = hi - lo
    if amin < lo - _RANGE_TOL * span or amax > hi + _RANGE_TOL * span:
        raise InputError(f"{where}: values span [{amin:.4g}, {amax:.4g}], outside the declared range [{lo}, {hi}]")
    scaled = (a.astype(np.float64) - lo) * (255.0 / span)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def to_uint8_nchw(x: Any, value_range: str | None = None, layout: str = "auto",
                  where: str = "images") -> np.ndarray:
    """Validate and convert an array/tensor of images to uint8 [N, 3, H, W] (a C-contiguous copy)."""
    a = _to_numpy(x, where)
    if a.dtype == np.uint8:
        pass
    elif np.issubdtype(a.dtype, np.floating):
        a = float_to_uint8(a, value_range, where)
    else:
        raise InputError(f"{where}: unsupported dtype {a.dtype}; expected uint8, or float with a value range")
    a = _fix_channels(_as_nchw(a, layout, where), where)
    if a.shape[0] == 0:
        raise InputError(f"{where}: no images (N = 0)")
    if a.shape[2] < 1 or a.shape[3] < 1:
        raise InputError(f"{where}: empty image size {a.shape[2:]}")
    return np.ascontiguousarray(a)


def to_points(x: Any, where: str = "points") -> np.ndarray:
    """2-D point sets stay float64 [N, 2]."""
    a = _to_numpy(x, where)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InputError(f"{where}: expected points of shape [N, 2], got {a.shape}")
    if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
        raise InputError(f"{where}: unsupported dtype {a.dtype} for points")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise InputError(f"{where}: points contain NaN or Inf values")
    return np.ascontiguousarray(a)


def nchw_to_nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))
