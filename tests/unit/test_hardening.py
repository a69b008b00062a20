"""Silent wrong numbers and poisoned boards: names, escaping, 16-bit images, huge headers, NaN weights, seeds."""
from __future__ import annotations

import json
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from genbench.errors import ConfigError, InputError, WeightsError
from genbench.board.leaderboard import Leaderboard, validate_model_name
from genbench.metrics.base import MetricValue
from genbench.board.render import render
from genbench.eval.result import EvalResult


def _result(fd=1.5):
    return EvalResult({"fd": MetricValue(fd, 0.1, (fd - 0.2, fd + 0.2), {})},
                      {"protocol": "p", "protocol_version": "1", "primary": "fd", "n_gen": 10},
                      {"n": 10}, {"fingerprint": "abc"}, {}, {"fd": False}, None)


# ---- names -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", "  ", "a\nb", "a\rb", "tab\there", "nul\x00", "bell\x07", "x" * 201,
                                  " lead", "trail ", "bad\udcffutf8", "zero\u200bwidth", "line\u2028sep"])
def test_bad_model_names_refused(name, tmp_path):
    with pytest.raises(InputError):
        validate_model_name(name)
    board = tmp_path / "b.jsonl"
    with pytest.raises(InputError):
        Leaderboard.load(board).add_result(_result(), name)
    assert not board.exists()


@pytest.mark.parametrize("name", ["ddpm", "my model v2", "ÉCOLE-模型", "a|b", "<b>x</b>", "=1+1", "x" * 200])
def test_printable_names_accepted(name):
    assert validate_model_name(name) == name


def test_renderers_escape_names(tmp_path):
    path = tmp_path / "b.jsonl"
    evil = {"pipe|\\|x": 1.0, "<script>alert(1)</script>": 2.0, "=HYPERLINK(\"x\")": 3.0, "-2+3": 4.0,
            "@SUM(A1)": 5.0, "50% & $x_1^2$ {~#}": 6.0}
    board = Leaderboard.load(path)
    board.add_results({name: _result(v) for name, v in evil.items()})
    board = Leaderboard.load(path)
    md = render(board, "md")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "fd" not in line]
    assert len(rows) == len(evil)
    assert all(len(row.replace("\\|", "").split("|")) == 5 for row in rows)  # '| # | model | fd |'
    assert "<script>" not in md and "&lt;script&gt;" in md and "pipe\\|\\\\\\|x" in md
    csv = render(board, "csv")
    cells = [line.split(",")[2] for line in csv.splitlines()[1:]]
    assert not any(c.lstrip('"').startswith(("=", "+", "-", "@")) for c in cells), cells
    assert "'=HYPERLINK" in csv and "'-2+3" in csv and "'@SUM(A1)" in csv
    tex = render(board, "latex")
    assert r"50\% \& \$x\_1\textasciicircum{}2\$ \{\textasciitilde{}\#\}" in tex
    assert r"pipe\textbar{}\textbackslash{}\textbar{}x" in tex and "<script>" not in tex
    assert "<script>" not in render(board, "html")


def test_newline_in_existing_row_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "b.jsonl"
    Leaderboard.load(path).add_result(_result(), "ok")
    row = json.loads(path.read_text().splitlines()[0])
    row["model"] = "two\nlines"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=r"b.jsonl:1: field 'model'"):
        Leaderboard.load(path)


BAD_ROWS = {
    "list": "[1, 2]", "string": '"row"', "number": "3", "missing-model": '{"metric": "fd", "value": 1, '
    '"protocol_id": "p"}', "model-int": '{"model": 5, "metric": "fd", "value": 1, "protocol_id": "p"}',
    "value-str": '{"model": "m", "metric": "fd", "value": "high", "protocol_id": "p"}',
    "ci-short": '{"model": "m", "metric": "fd", "value": 1, "protocol_id": "p", "ci95": [1]}',
    "entry-str": '{"model": "m", "metric": "fd", "value": 1, "protocol_id": "p", "entry": "1"}',
    "protocol-list": '{"model": "m", "metric": "fd", "value": 1, "protocol_id": "p", "protocol": []}',
    "skipped-str": '{"model": "m", "metric": "fd", "value": 1, "protocol_id": "p", "skipped": "x"}',
    "json": "{not json", "deep": "[" * 100_000,
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_malformed_board_rows_name_file_and_line(case, tmp_path):
    path = tmp_path / "b.jsonl"
    Leaderboard.load(path).add_result(_result(), "ok")
    path.write_text(path.read_text() + "\n" + BAD_ROWS[case] + "\n")
    with pytest.raises(InputError, match=r"b\.jsonl:3"):
        Leaderboard.load(path)


def test_invalid_utf8_row_names_the_line(tmp_path):
    path = tmp_path / "b.jsonl"
    Leaderboard.load(path).add_result(_result(), "ok")
    path.write_bytes(path.read_bytes() + b'{"model": "\xff\xfe"}\n')
    with pytest.raises(InputError, match=r"b\.jsonl:2: invalid UTF-8"):
        Leaderboard.load(path)


# ---- image files ----------------------------------------------------------------------------------
def _png16_rgb(arr: np.ndarray) -> bytes:
    """A 16-bit RGB PNG written by hand (PIL cannot write one)."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[i].astype(">u2").tobytes() for i in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_16bit_gray_png_is_scaled_exactly(tmp_path):
    from genbench.sets.samples import open_samples

    values = np.array([[0, 128, 129, 257, 32896, 65535, 1000, 65278]], np.uint16)
    (tmp_path / "d").mkdir()
    Image.fromarray(values).save(tmp_path / "d" / "a.png")
    got = open_samples(str(tmp_path / "d")).load()[0, 0, 0]
    assert got.tolist() == [0, 0, 1, 1, 128, 255, 4, 254]  # round(v / 257)


def test_16bit_rgb_png_within_one_level(tmp_path):
    from genbench.sets.samples import open_samples

    v = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.png").write_bytes(_png16_rgb(np.stack([v, v // 2, 65535 - v], -1)))
    got = open_samples(str(tmp_path / "d")).load()[0].astype(int)
    want = np.rint(np.stack([v, v // 2, 65535 - v]) / 257.0)
    assert np.abs(got - want).max() <= 1 and got[0].max() == 255 and got[0].min() == 0


def _huge_header_png(w: int, h: int) -> bytes:
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(9000, 9000), (100_000, 100_000), (2 ** 26 + 1, 1)])
def test_huge_header_refused_before_decoding(size, tmp_path):
    from genbench.sets.samples import open_samples

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.png").write_bytes(_huge_header_png(*size))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        with pytest.raises(InputError, match="a.png"):
            open_samples(str(tmp_path / "d")).load()


# ---- checkpoints, seeds, weights -------------------------------------------------------------------
def test_checkpoint_with_nan_weights_refused(tmp_path):
    from reference_models.checkpoint import load_into

    net = torch.nn.Linear(2, 2)
    sd = {k: v.clone() for k, v in net.state_dict().items()}
    load_into(net, sd, tmp_path / "ok")
    for bad in (float("nan"), float("inf")):
        sd["weight"][0, 0] = bad
        with pytest.raises(InputError, match="NaN or Inf"):
            load_into(net, sd, tmp_path / "model.safetensors")


@pytest.mark.parametrize("num,seed,spec", [
    (None, None, "0-99999999999"), (None, None, "0-999999,2000000-2999999"), (2_000_000, None, None),
    (None, None, "5000000000"), (10, 2 ** 32 - 5, None), (None, -1, None), (None, None, "1," * 60_000),
])
def test_absurd_seed_ranges_refused_without_building_them(num, seed, spec):
    from genbench.commands.common import check_seed_args

    with pytest.raises(ConfigError):
        check_seed_args(num, seed, spec)


def test_reasonable_seeds_pass():
    from genbench.commands.common import check_seed_args

    assert check_seed_args(1000, 0, None) == (1000, 0, None)
    assert check_seed_args(None, None, "0-49999,60000") == (None, None, "0-49999,60000")


def test_weights_import_hashes_the_stored_copy(tmp_path, monkeypatch):
    from genbench.features import weights as W

    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    src = tmp_path / "w.pt"
    src.write_bytes(b"good bytes")
    entry = W.WeightsEntry("t", "t.pt", W._hash_file(src), "http://x", "test")
    monkeypatch.setitem(W.WEIGHTS._items, "t", entry)
    real_copy = W.shutil.copyfile

    def tampered_copy(a, b):  # the source changes between any check of it and the copy
        real_copy(a, b)
        Path(b).write_bytes(b"evil bytes")

    monkeypatch.setattr(W.shutil, "copyfile", tampered_copy)
    with pytest.raises(WeightsError, match="does not match"):
        W.import_weights("t", src)
    assert not (tmp_path / "home" / "weights" / "t.pt").exists()
    monkeypatch.setattr(W.shutil, "copyfile", real_copy)
    info = W.import_weights("t", src)
    assert info.verified and Path(info.path).read_bytes() == b"good bytes"


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_unverified_clip_torchscript_refused(tmp_path):
    from genbench.features.clip import load_clip_state_dict

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

        def forward(self, x):
            return x * self.w

    jit, plain = tmp_path / "jit.pt", tmp_path / "plain.pt"
    torch.jit.script(Tiny()).save(str(jit))
    torch.save(Tiny().state_dict(), plain)
    with pytest.raises(WeightsError, match="plain state dict"):
        load_clip_state_dict(jit, verified=False)
    assert set(load_clip_state_dict(plain, verified=False)) == {"w"}


def test_html_report_survives_mathtext_names(tmp_path):
    from genbench.board.report import report_html

    path = tmp_path / "b.jsonl"
    Leaderboard.load(path).add_results({"a$\\frac$": _result(), "b^_{x}$": _result(2.0)})
    page = report_html(Leaderboard.load(path))
    assert "a$\\frac$" in page and "<script>alert" not in page


# ---- issue 20, class 2 and 4: statistics files checked on load and import --------------------------------
def _stats_file(tmp_path, name="ref.npz", **change):
    """A genbench statistics file of 64-d digits features, with some arrays replaced."""
    from genbench.refs.build import build_reference

    path = tmp_path / name
    if not path.exists():
        build_reference("digits-test", path, extractor="digits-classifier", num=120, cache_dir=False)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(change)
    bad = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}.npz"
    np.savez(bad, **arrays)
    return bad, arrays


def _eval_ref(ref):
    from tests.fuzz.common import run_cli

    return run_cli(["eval", "--samples", "digits-train", "--ref", str(ref), "--extractor", "digits-classifier",
                    "--metrics", "fd", "--num-samples", "50", "--bootstrap", "0", "--no-cache", "--quiet"])


def _one_line_2(code, err, *words):
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


def test_not_psd_sigma_is_refused_on_load(tmp_path):
    _, a = _stats_file(tmp_path)
    w, v = np.linalg.eigh(a["sigma"])
    w[0] = -0.5 * w[-1]  # symmetric, not PSD: gave fd = -17695 with exit 0
    bad, _ = _stats_file(tmp_path, sigma=(v * w) @ v.T, sigma_sqrt=a["sigma_sqrt"])
    _one_line_2(*_eval_ref(bad), "positive semi-definite", bad.name)


def test_ref_import_refuses_minus_identity(tmp_path):
    from tests.fuzz.common import run_cli

    np.savez(tmp_path / "neg.npz", mu=np.zeros(64), sigma=-np.eye(64))
    code, err = run_cli(["ref", "import", str(tmp_path / "neg.npz"), "--format", "pytorch-fid", "--extractor",
                         "digits-classifier", "--n", "10", "--out", str(tmp_path / "o.npz")])
    _one_line_2(code, err, "positive semi-definite")
    assert not (tmp_path / "o.npz").exists()


def test_sigma_sqrt_that_is_not_the_root_is_refused(tmp_path):
    _, a = _stats_file(tmp_path)
    bad, _ = _stats_file(tmp_path, sigma_sqrt=a["sigma_sqrt"] * 1.3)  # gave fd 673.6 instead of 479.6
    _one_line_2(*_eval_ref(bad), "not the square root")


@pytest.mark.parametrize("n", [0, -5, 2.5])
def test_n_must_be_a_positive_integer(tmp_path, n):
    bad, _ = _stats_file(tmp_path, n=np.asarray(n))
    _one_line_2(*_eval_ref(bad), "positive integer")


def test_complex_sigma_is_refused(tmp_path):
    _, a = _stats_file(tmp_path)
    bad, _ = _stats_file(tmp_path, sigma=a["sigma"].astype(np.complex128))
    _one_line_2(*_eval_ref(bad), "dtype complex128")


def test_string_mu_is_refused_without_traceback(tmp_path):
    _, a = _stats_file(tmp_path)
    bad, _ = _stats_file(tmp_path, mu=np.array(["x"] * len(a["mu"])))
    _one_line_2(*_eval_ref(bad), "mu has dtype")


def test_nan_in_sigma_sqrt_is_refused_without_traceback(tmp_path):
    _, a = _stats_file(tmp_path)
    s = a["sigma_sqrt"].copy()
    s[3, 3] = np.nan  # was `linalg.eigh failed to converge`
    bad, _ = _stats_file(tmp_path, sigma_sqrt=s)
    _one_line_2(*_eval_ref(bad), "NaN")


def test_clean_fid_feats_of_three_dimensions_are_refused(tmp_path):
    from tests.fuzz.common import run_cli

    np.savez(tmp_path / "x_kid.npz", feats=np.zeros((4, 5, 64), np.float32))
    code, err = run_cli(["ref", "import", str(tmp_path / "x_kid.npz"), "--format", "clean-fid", "--extractor",
                         "digits-classifier", "--out", str(tmp_path / "o.npz")])
    _one_line_2(code, err, "feats should be [N, D]")


def test_truncated_zip_reference_gives_one_line_and_no_resource_warning(tmp_path):
    import subprocess
    import sys

    good, _ = _stats_file(tmp_path)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:3000])
    r = subprocess.run([sys.executable, "-W", "default", "-m", "genbench", "ref", str(cut), "--extractor",
                        "digits-classifier", "--out", str(tmp_path / "o.npz"), "--no-cache"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unclosed file" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(d=st.integers(1, 6), seed=st.integers(0, 2**31 - 1), neg=st.floats(0.0, 2.0))
def test_property_psd_accepted_non_psd_refused(d, seed, neg):
    from genbench.refs.stats import PSD_TOL, RefStats

    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    w = rng.uniform(0.1, 10.0, size=d)
    w[0] = -neg * w.max()  # neg = 0: PSD (rank deficient); otherwise an eigenvalue of -neg x the largest
    sigma = (q * w) @ q.T
    sigma = (sigma + sigma.T) / 2
    if neg <= PSD_TOL / 2:
        st_ = RefStats(np.zeros(d), sigma, 10, {})
        assert np.allclose(st_.sigma_sqrt @ st_.sigma_sqrt, sigma, atol=1e-8 * np.abs(sigma).max())
    elif neg > 2 * PSD_TOL:
        with pytest.raises(InputError, match="positive semi-definite"):
            RefStats(np.zeros(d), sigma, 10, {})


# ---- issue 20: the Evaluator refuses ambiguous layouts, mixed sizes, bad option types; no global RNG change --
@pytest.fixture(scope="module")
def evaluator():
    import genbench

    return genbench.Evaluator(reference="digits-test", extractor="digits-classifier", metrics="fd", bootstrap=0,
                              num_reference=100, batch_size=16, device="cpu")


def test_evaluator_refuses_uint8_nhwc_read_as_rgba(evaluator):
    x = np.random.default_rng(0).integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    evaluator.reset()
    with pytest.raises(InputError, match="channel axis.*layout='NHWC'"):
        evaluator.update(x)  # was read as 4-channel RGBA with the alpha dropped (fd 322 instead of 365)
    assert len(evaluator) == 0


def test_evaluator_with_stated_nhwc_layout_equals_nchw(tmp_path):
    import genbench

    x = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    kw = dict(reference="digits-test", extractor="pixels", metrics="fd", bootstrap=0, num_reference=50,
              batch_size=8, device="cpu")
    a = genbench.Evaluator(**kw, layout="NHWC")
    a.update(x)
    b = genbench.Evaluator(**kw, layout="NCHW")
    b.update(x.transpose(0, 3, 1, 2))
    assert a.compute().metrics["fd"].value == b.compute().metrics["fd"].value


def test_evaluator_refuses_a_single_chw_image_unless_stated(evaluator):
    img = np.zeros((3, 8, 8), np.uint8)
    evaluator.reset()
    with pytest.raises(InputError, match="layout='CHW'"):
        evaluator.update(img)  # was read as 3 grayscale images
    evaluator.layout = "CHW"
    try:
        evaluator.update(img)
        assert len(evaluator) == 1
    finally:
        evaluator.layout = None
        evaluator.reset()


def test_evaluator_refuses_a_second_image_size(evaluator):
    evaluator.reset()
    evaluator.update(np.zeros((2, 3, 8, 8), np.uint8))
    with pytest.raises(InputError, match="16x16 after images of size 8x8"):
        evaluator.update(np.zeros((2, 3, 16, 16), np.uint8))
    evaluator.reset()


@pytest.mark.parametrize("bs", [2.5, "8", True, 0])
def test_evaluator_batch_size_must_be_a_positive_int(bs):
    import genbench

    with pytest.raises(ConfigError, match="batch_size must be a positive int"):
        genbench.Evaluator(reference="digits-test", extractor="pixels", metrics="fd", batch_size=bs)


def _rng_states():
    import random

    return torch.get_rng_state().clone(), np.random.get_state()[1].copy(), random.getstate()


def _same(a, b):
    return bool(torch.equal(a[0], b[0])) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_no_genbench_call_changes_the_callers_global_rng():
    import random

    import genbench

    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    x = genbench.SampleSet.from_dataset("digits").load()[:48]
    before = _rng_states()
    ev = genbench.Evaluator(protocol="digits-default", reference="digits-test", bootstrap=3, batch_size=16,
                            num_reference=120, device="cpu")
    ev.update(x)
    ev.compute()  # used to re-seed/advance torch's global generator (network initialisation)
    genbench.evaluate(x, "digits-test", protocol="digits-default", bootstrap=3, num_reference=120, cache_dir=False,
                      device="cpu")
    assert _same(before, _rng_states())


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(shape=st.lists(st.integers(1, 6), min_size=2, max_size=5))
def test_property_evaluator_accepts_only_unambiguous_layouts(evaluator, shape):
    evaluator.reset()
    x = np.zeros(shape, np.uint8)
    unambiguous = len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3, 4)
    try:
        evaluator.update(x)
        assert unambiguous and len(evaluator) == shape[0]
    except InputError:
        assert not unambiguous
    finally:
        evaluator.reset()


# ---- issue 20, class 6: diffusers default steps; pickle-only folders say why they are refused --------------
def test_diffusers_steps_default_to_the_pipeline_capped_by_training_timesteps():
    pytest.importorskip("diffusers")
    from genbench.sets.diffusers import resolve_steps

    assert resolve_steps(None, "DDPMPipeline", 50, "p") == 50  # was 1000: a 51-line traceback, exit 1
    assert resolve_steps(None, "DDPMPipeline", 1000, "p") == 1000
    assert resolve_steps(None, "DDIMPipeline", 1000, "p") == 50
    assert resolve_steps(7, "DDPMPipeline", 50, "p") == 7
    with pytest.raises(ConfigError, match="--steps 60: p was trained with 50 timesteps"):
        resolve_steps(60, "DDPMPipeline", 50, "p")


@pytest.mark.slow
def test_generate_diffusers_without_steps_uses_the_schedulers_timesteps(tmp_path):
    pytest.importorskip("diffusers")
    from genbench.cli import main
    from tests.diffusers_tiny import save_pipeline

    pipe = save_pipeline("ddpm", tmp_path)  # DDPMScheduler(num_train_timesteps=50)
    out = tmp_path / "o.npz"
    assert main(["generate", "--diffusers", str(pipe), "--seeds", "0-1", "--batch-size", "2", "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0
    with np.load(out) as z:
        assert z["arr_0"].shape == (2, 8, 8, 3)


def test_generate_diffusers_refuses_more_steps_than_timesteps_before_loading(tmp_path, monkeypatch):
    pytest.importorskip("diffusers")
    import genbench.sets.diffusers as d
    from genbench.cli import main
    from tests.diffusers_tiny import save_pipeline

    pipe = save_pipeline("ddpm", tmp_path)

    monkeypatch.setattr(d, "load_pipeline", lambda *a, **k: pytest.fail("loaded before refusing --steps"))
    assert main(["generate", "--diffusers", str(pipe), "--seeds", "0-1", "--steps", "51", "--out",
                 str(tmp_path / "p.npz")]) == 2


def test_diffusers_folder_with_only_pickle_weights_says_why(tmp_path, capsys):
    pytest.importorskip("diffusers")
    import safetensors.torch

    from genbench.cli import main
    from tests.diffusers_tiny import save_pipeline

    pipe = save_pipeline("ddim", tmp_path)
    f = pipe / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(safetensors.torch.load_file(f), f.with_suffix(".bin"))
    f.unlink()
    assert main(["generate", "--diffusers", str(pipe), "--seeds", "0", "--steps", "2", "--out",
                 str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err
    assert "only as pickle" in err and "diffusion_pytorch_model.bin" in err and len(err.strip().splitlines()) == 1


# ---- issue 20, class 2: what the ranks compare (the pure part of distributed.agree) ------------------------
FACTS = st.dictionaries(st.sampled_from(["fingerprint", "n", "protocol", "seed"]),
                        st.one_of(st.integers(0, 3), st.sampled_from(["a", "b"]),
                                  st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 2), max_size=2)),
                        max_size=4)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(states=st.lists(FACTS, min_size=2, max_size=4))
def test_property_ranks_disagree_exactly_when_their_facts_differ(states):
    from genbench.distributed import disagreements, flatten

    flat = [flatten(s) for s in states]
    diffs = disagreements(flat)
    assert (diffs == []) == all(f == flat[0] for f in flat)
    for line in diffs:  # each names a fact and the ranks that differ from rank 0
        key = line.split(":")[0]
        assert any(f.get(key) != flat[0].get(key) for f in flat) and "rank 0" in line


def test_disagreement_message_names_ranks_and_fact():
    from genbench.distributed import disagreements, flatten

    lines = disagreements([flatten({"inputs": {"fake": {"fingerprint": "aaaa", "n": 60}}}),
                           flatten({"inputs": {"fake": {"fingerprint": "bbbb", "n": 60}}})])
    assert lines == ["inputs.fake.fingerprint: rank 0 aaaa, rank 1 bbbb"]


def test_csv_headers_from_metric_names_never_start_a_formula(tmp_path):
    """Issue #27: a metric named =HYPERLINK(...) in a result file became a CSV header cell starting with '='."""
    path = tmp_path / "b.jsonl"
    r = _result()
    r.metrics['=HYPERLINK("http://x")'] = MetricValue(1.0, None, None, {})
    r.directions['=HYPERLINK("http://x")'] = False
    Leaderboard.load(path).add_results({"m": r})
    header = render(Leaderboard.load(path), "csv").splitlines()[0]
    import csv as _csv

    cells = next(_csv.reader([header]))
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells
    assert any(c.startswith("'=HYPERLINK") for c in cells)
