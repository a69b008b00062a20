"""Fuzzing the image loaders: random bytes, truncated real PNG/JPEG/npz, through Python and the CLI.

Property: loading either gives valid uint8 [N, 3, H, W] images or raises a GenbenchError; through
`genbench export` a failure is exit 2 with one stderr line and nothing written.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from genbench.errors import GenbenchError
from genbench.sets.samples import open_samples
from tests.fuzz.common import FUZZ, assert_clean_failure, run_cli, snapshot


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    if fmt == "npz":
        np.savez(buf, arr_0=img[None])
    else:
        Image.fromarray(img).save(buf, fmt)
    return buf.getvalue()


REAL = {"png": _encoded("PNG"), "jpg": _encoded("JPEG"), "npz": _encoded("npz")}


def _load_or_error(path: Path) -> None:
    try:
        x = open_samples(str(path)).load()
    except GenbenchError as e:
        assert str(path.name) in str(e) or str(path.parent.name) in str(e), str(e)
        return
    assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[1] == 3


def _write(tmp: Path, suffix: str, data: bytes) -> Path:
    """A folder holding one image file, or an .npz file."""
    if suffix == "npz":
        p = tmp / "x.npz"
    else:
        (tmp / "d").mkdir()
        p = tmp / "d" / f"x.{suffix}"
    p.write_bytes(data)
    return p if suffix == "npz" else p.parent


@FUZZ
@given(suffix=st.sampled_from(["png", "jpg", "bmp", "webp", "npz"]), data=st.binary(max_size=512))
def test_random_bytes(suffix, data):
    with tempfile.TemporaryDirectory() as t:
        _load_or_error(_write(Path(t), suffix, data))


@FUZZ
@given(fmt=st.sampled_from(sorted(REAL)), cut=st.floats(0.0, 0.999))
def test_truncated_real_files(fmt, cut):
    data = REAL[fmt]
    with tempfile.TemporaryDirectory() as t:
        _load_or_error(_write(Path(t), fmt, data[: int(len(data) * cut)]))


@FUZZ
@given(fmt=st.sampled_from(sorted(REAL)), pos=st.floats(0.0, 0.999), byte=st.integers(0, 255))
def test_corrupted_byte_of_real_files(fmt, pos, byte):
    data = bytearray(REAL[fmt])
    data[int(len(data) * pos)] = byte
    with tempfile.TemporaryDirectory() as t:
        _load_or_error(_write(Path(t), fmt, bytes(data)))


@pytest.mark.parametrize("fmt", sorted(REAL))
@FUZZ
@given(cut=st.floats(0.0, 0.95))
def test_cli_export_of_truncated_file(fmt, cut):
    data = REAL[fmt]
    with tempfile.TemporaryDirectory() as t:
        src = _write(Path(t), fmt, data[: int(len(data) * cut)])
        argv = ["export", str(src), "--out", str(Path(t) / "out.npz")]
        before = snapshot(Path(t))
        code, err = run_cli(argv)
        if code == 0:  # a truncation that still decodes (e.g. a JPEG missing only its end marker)
            return
        assert_clean_failure(code, err, argv)
        assert snapshot(Path(t)) == before
