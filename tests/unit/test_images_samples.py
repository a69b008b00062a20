"""Image contract, SampleSet sources and fingerprints, export round trips."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genbench.errors import InputError
from genbench.sets.export import export
from genbench.sets.images import to_uint8_nchw
from genbench.sets.samples import SampleSet, open_samples


def _images(n=6, h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, h, w), dtype=np.uint8)


def test_float_input_is_rounded_not_truncated():
    x = np.full((1, 3, 2, 2), 0.999, dtype=np.float32)  # 254.745 -> 255 by rounding (254 by truncation)
    assert to_uint8_nchw(x, value_range="0,1").max() == 255
    y = np.full((1, 3, 2, 2), 0.0, dtype=np.float64)  # -1..1: 0 -> 127.5 -> 128 (round half to even)
    assert to_uint8_nchw(y, value_range="-1,1")[0, 0, 0, 0] == 128


def test_float_without_range_nan_and_out_of_range_are_errors():
    x = np.zeros((2, 3, 4, 4), dtype=np.float32)
    with pytest.raises(InputError, match="value range"):
        to_uint8_nchw(x)
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        to_uint8_nchw(x, value_range="0,1")
    with pytest.raises(InputError, match="outside the declared range"):
        to_uint8_nchw(np.full((1, 3, 2, 2), 2.0), value_range="0,1")


def test_wrong_dtype_and_channels():
    with pytest.raises(InputError, match="dtype int64"):
        to_uint8_nchw(np.zeros((2, 3, 4, 4), dtype=np.int64))
    with pytest.raises(InputError, match="channel"):
        to_uint8_nchw(np.zeros((2, 5, 6, 7), dtype=np.uint8))


def test_grayscale_expanded_and_alpha_dropped_with_warning():
    g = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    out = to_uint8_nchw(g)
    assert out.shape == (1, 3, 4, 4) and (out[:, 0] == out[:, 2]).all()
    rgba = np.zeros((2, 4, 4, 4), dtype=np.uint8)
    with pytest.warns(UserWarning, match="alpha"):
        assert to_uint8_nchw(rgba, layout="NHWC").shape == (2, 3, 4, 4)


def test_fingerprint_equal_across_folder_npz_tensor(tmp_path):
    imgs = _images()
    s_arr = SampleSet.from_array(imgs)
    s_t = SampleSet.from_array(torch.from_numpy(imgs))
    export(s_arr, tmp_path / "f")
    export(s_arr, tmp_path / "s.npz")
    s_dir = open_samples(str(tmp_path / "f"))
    s_npz = open_samples(str(tmp_path / "s.npz"))
    assert s_arr.fingerprint == s_t.fingerprint == s_dir.fingerprint == s_npz.fingerprint
    np.testing.assert_array_equal(s_dir.load(), imgs)
    assert json.loads((tmp_path / "f" / "manifest.json").read_text())["n"] == 6


def test_fingerprint_changes_with_order_and_content():
    imgs = _images()
    a = SampleSet.from_array(imgs).fingerprint
    assert a != SampleSet.from_array(imgs[::-1].copy()).fingerprint
    imgs2 = imgs.copy()
    imgs2[0, 0, 0, 0] ^= 1
    assert a != SampleSet.from_array(imgs2).fingerprint


def test_folder_is_recursive_and_sorted(tmp_path):
    imgs = _images(3)
    (tmp_path / "b").mkdir()
    Image.fromarray(imgs[0].transpose(1, 2, 0)).save(tmp_path / "a.png")
    Image.fromarray(imgs[1].transpose(1, 2, 0)).save(tmp_path / "b" / "c.png")
    Image.fromarray(imgs[2].transpose(1, 2, 0)).save(tmp_path / "b" / "d.bmp")
    s = open_samples(str(tmp_path))
    np.testing.assert_array_equal(s.load(), imgs)


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt", "truncated", "mixed", "noarr0", "pickled"])
def test_bad_inputs_name_the_file(tmp_path, case):
    target = tmp_path / "x"
    if case == "empty":
        target.mkdir()
    elif case == "corrupt":
        target.mkdir()
        (target / "bad.png").write_bytes(b"not a png")
    elif case == "truncated":
        target.mkdir()
        Image.fromarray(_images(1, 32, 32)[0].transpose(1, 2, 0)).save(target / "t.png")
        data = (target / "t.png").read_bytes()
        (target / "t.png").write_bytes(data[: len(data) // 2])
    elif case == "mixed":
        target.mkdir()
        Image.fromarray(_images(1, 4, 4)[0].transpose(1, 2, 0)).save(target / "a.png")
        Image.fromarray(_images(1, 5, 4)[0].transpose(1, 2, 0)).save(target / "b.png")
    elif case == "noarr0":
        target = tmp_path / "x.npz"
        np.savez(target, images=_images())
    elif case == "pickled":
        target = tmp_path / "x.npz"
        np.savez(target, arr_0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError) as e:
        open_samples(str(target)).load()
    assert str(target.name) in str(e.value) or str(target) in str(e.value)


def test_take_and_points():
    pts = open_samples("toy2d-ring8")
    assert pts.kind == "points" and pts.load().dtype == np.float64
    assert len(pts.take(2500)) == 2500
    with pytest.raises(InputError, match="only"):
        open_samples("digits-test").take(10_000)


def test_builtin_digits_split_is_disjoint_and_fixed():
    tr, te = open_samples("digits-train"), open_samples("digits-test")
    assert len(tr) + len(te) == 1797
    a = {x.tobytes() for x in tr.load()}
    overlap = sum(x.tobytes() in a for x in te.load())
    assert overlap < 5  # a few digit images are pixel-identical across the split in sklearn's data
    assert te.fingerprint == open_samples("digits-test").fingerprint


def test_generator_source_is_batch_size_invariant():
    def fn(seeds):
        return np.stack([np.random.default_rng(s).integers(0, 256, (3, 4, 4), dtype=np.uint8) for s in seeds])

    a = SampleSet.from_generator(fn, range(10), batch_size=3)
    b = SampleSet.from_generator(fn, range(10), batch_size=10)
    assert a.fingerprint == b.fingerprint and a.manifest["seeds"] == list(range(10))
