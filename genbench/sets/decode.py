"""Decoding one image file to uint8 [3, H, W] under the image contract, safely.

- The header is checked before any pixel is decoded: the size against the set's first image and against
  MAX_PIXELS (2**26, a 8192 x 8192 image), so a file that declares an enormous size costs nothing.
  PIL's own DecompressionBombWarning / Error become an InputError instead of a stderr warning.
- 16-bit images are scaled, not saturated: 16-bit grayscale (PIL modes I;16*, and I with values in
  0..65535) maps v -> round(v / 257), which sends 0 -> 0, 65535 -> 255 and 257 k -> k exactly. 16-bit
  RGB PNGs are reduced by PIL to their high byte (floor(v / 256)), within one level of round(v / 257).
- Other modes (32-bit float, CMYK, ...) are converted by PIL; palette and alpha images keep their colours
  and drop alpha with a warning.
"""
from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from genbench.errors import InputError

MAX_PIXELS = 2 ** 26
_GRAY = ("L", "LA", "1")
_GRAY16 = ("I;16", "I;16L", "I;16B", "I;16N", "I")


@contextlib.contextmanager
def open_image(path: Path) -> Iterator["object"]:
    """PIL image of `path` with its header validated (size limit) and nothing decoded yet."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InputError(f"{path}: image header declares an enormous size; refused before decoding") from None
    except Exception as e:
        raise InputError(f"{path}: corrupt or unreadable image ({type(e).__name__}: {e})") from None
    with im:
        w, h = im.size
        if w < 1 or h < 1 or w * h > MAX_PIXELS:
            raise InputError(f"{path}: image size {w}x{h} is outside 1..{MAX_PIXELS} pixels; refused before "
                             "decoding")
        yield im


def _gray16_to_uint8(a: np.ndarray, path: Path) -> np.ndarray:
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise InputError(f"{path}: {a.dtype} grayscale values outside 0..65535; expected an 8- or 16-bit image")
    return np.rint(a / 257.0).astype(np.uint8)


def decode_image(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """uint8 [3, H, W] of one image file; `size` (w, h), where given, must match the header."""
    with open_image(path) as im:
        if size is not None and im.size != size:
            raise InputError(f"{path}: image size {im.size[0]}x{im.size[1]} differs from the first image's "
                             f"{size[0]}x{size[1]}; all images in a set must have one size")
        try:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                warnings.warn(f"{path}: dropping the alpha channel", stacklevel=3)
            if im.mode in _GRAY16:
                a = _gray16_to_uint8(np.asarray(im), path)
            else:
                a = np.asarray(im.convert("L" if im.mode in _GRAY else "RGB"))
        except InputError:
            raise
        except Exception as e:
            raise InputError(f"{path}: corrupt or unreadable image ({type(e).__name__}: {e})") from None
    if a.ndim == 2:
        return np.repeat(a[None], 3, axis=0)  # [3, H, W] uint8
    return np.ascontiguousarray(a.transpose(2, 0, 1))  # [3, H, W] uint8


def image_size(path: Path) -> tuple[int, int]:
    """(w, h) from the header only."""
    with open_image(path) as im:
        return im.size
