"""A corpus of named bad inputs, one CLI call each: exit 2, one stderr line, no traceback, nothing written.

Each case builds its inputs in a fresh folder and returns the argv. "Nothing written" is checked on the
whole folder: every file keeps its bytes and no file or folder appears (GENBENCH_HOME lies outside it).
"""
from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genbench.cli import main

CASES: dict[str, callable] = {}


def case(fn):
    CASES[fn.__name__.removeprefix("c_").replace("_", "-")] = fn
    return fn


# ---- builders --------------------------------------------------------------------------------------
def _pngs(d: Path, n: int = 3, size=(8, 8)) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return d


def _npz(p: Path, n: int = 4) -> Path:
    np.savez(p, arr_0=np.random.default_rng(0).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8))
    return p


def _row(**kw) -> str:
    row = {"model": "m", "metric": "fd", "value": 1.0, "protocol_id": "p@1/n=1/ref=x", "entry": 1}
    row.update(kw)
    return json.dumps(row)


def _board(t: Path, *lines: str, raw: bytes = b"") -> Path:
    p = t / "b.jsonl"
    p.write_bytes("\n".join((_row(),) + lines).encode() + b"\n" + raw)
    return p


def _huge_png(p: Path, w: int, h: int) -> Path:
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    return p


def _export(src, t, out="out"):
    return ["export", str(src), "--out", str(t / out)]


# ---- export: sample sources -------------------------------------------------------------------------
@case
def c_export_missing_src(t): return _export(t / "nope", t)
@case
def c_export_empty_folder(t): (t / "e").mkdir(); return _export(t / "e", t)
@case
def c_export_corrupt_png(t): d = _pngs(t / "d"); (d / "9.png").write_bytes(b"\x89PNG junk"); return _export(d, t)
@case
def c_export_random_bytes_jpg(t): d = _pngs(t / "d"); (d / "x.jpg").write_bytes(bytes(range(256)) * 4); return _export(d, t)


@case
def c_export_truncated_png(t):
    d = _pngs(t / "d", size=(32, 32))
    (d / "1.png").write_bytes((d / "1.png").read_bytes()[:60])
    return _export(d, t)


@case
def c_export_truncated_jpeg(t):
    d = t / "d"
    d.mkdir()
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "JPEG")
    (d / "a.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    return _export(d, t)


@case
def c_export_mixed_sizes(t): d = _pngs(t / "d"); _pngs(d / "sub", 1, (9, 8)); return _export(d, t)
@case
def c_export_huge_header(t): d = _pngs(t / "d"); _huge_png(d / "z.png", 50_000, 50_000); return _export(d, t)
@case
def c_export_huge_first_image(t): (t / "d").mkdir(); _huge_png(t / "d" / "0.png", 9000, 9000); return _export(t / "d", t)


@case
def c_export_npz_no_arr0(t):
    np.savez(t / "x.npz", images=np.zeros((2, 8, 8, 3), np.uint8))
    return _export(t / "x.npz", t)


@case
def c_export_npz_pickled(t):
    np.savez(t / "x.npz", arr_0=np.array([{"a": 1}], dtype=object))
    return _export(t / "x.npz", t)


@case
def c_export_npz_truncated(t): p = _npz(t / "x.npz"); p.write_bytes(p.read_bytes()[:100]); return _export(p, t)
@case
def c_export_npz_random_bytes(t): (t / "x.npz").write_bytes(b"PK\x03\x04" + bytes(200)); return _export(t / "x.npz", t)
@case
def c_export_npy_int64(t): np.save(t / "x.npy", np.zeros((2, 3, 8, 8), np.int64)); return _export(t / "x.npy", t)
@case
def c_export_float_no_range(t): np.save(t / "x.npy", np.zeros((2, 3, 8, 8), np.float32)); return _export(t / "x.npy", t)


@case
def c_export_float_nan(t):
    a = np.zeros((2, 3, 8, 8), np.float32)
    a[0, 0, 0, 0] = np.nan
    np.save(t / "x.npy", a)
    return _export(t / "x.npy", t) + ["--value-range", "0,1"]


@case
def c_export_float_out_of_range(t):
    np.save(t / "x.npy", np.full((2, 3, 8, 8), 7.0, np.float32))
    return _export(t / "x.npy", t) + ["--value-range", "0,1"]


@case
def c_export_five_channels(t): np.save(t / "x.npy", np.zeros((2, 5, 8, 8), np.uint8)); return _export(t / "x.npy", t)
@case
def c_export_zero_images(t): np.save(t / "x.npy", np.zeros((0, 3, 8, 8), np.uint8)); return _export(t / "x.npy", t)
@case
def c_export_npy_1d(t): np.save(t / "x.npy", np.zeros(10, np.uint8)); return _export(t / "x.npy", t)
@case
def c_export_unsupported_suffix(t): (t / "x.txt").write_text("hi"); return _export(t / "x.txt", t)


@case
def c_export_manifest_is_list(t):
    d = _pngs(t / "d")
    (d / "manifest.json").write_text("[1, 2, 3]")
    return _export(d, t)


@case
def c_export_manifest_is_string(t):
    p = _npz(t / "x.npz")
    (t / "x.manifest.json").write_text('"hello"')
    return _export(p, t)


@case
def c_export_manifest_bad_labels(t):
    d = _pngs(t / "d")
    (d / "manifest.json").write_text('{"labels": [[1, 2], [3]]}')
    return _export(d, t)


@case
def c_export_manifest_invalid_utf8(t):
    d = _pngs(t / "d")
    (d / "manifest.json").write_bytes(b'{"labels": "\xff"}')
    return _export(d, t)


@case
def c_export_manifest_invalid_json(t): d = _pngs(t / "d"); (d / "manifest.json").write_text("{"); return _export(d, t)


# ---- export: output targets -------------------------------------------------------------------------
@case
def c_out_folder_is_a_file(t): (t / "out").write_text("mine"); return _export(_npz(t / "s.npz"), t)
@case
def c_out_npz_is_a_folder(t): (t / "o.npz").mkdir(); return _export(_npz(t / "s.npz"), t, "o.npz")
@case
def c_out_parent_is_a_file(t): (t / "f").write_text("x"); return _export(_npz(t / "s.npz"), t, "f/o.npz")
@case
def c_out_nonempty_folder(t): (t / "out").mkdir(); (t / "out" / "keep.txt").write_text("k"); return _export(_npz(t / "s.npz"), t)


@case
def c_out_overwrite_foreign_folder(t):
    (t / "out").mkdir()
    (t / "out" / "keep.txt").write_text("k")
    return _export(_npz(t / "s.npz"), t) + ["--overwrite"]


@case
def c_out_bad_suffix(t): return _export(_npz(t / "s.npz"), t, "o.png")
@case
def c_export_num_samples_too_many(t): return _export(_npz(t / "s.npz"), t) + ["--num-samples", "99"]
@case
def c_export_num_samples_zero(t): return _export(_npz(t / "s.npz"), t) + ["--num-samples", "0"]
@case
def c_export_bad_value_range(t): return _export(_npz(t / "s.npz"), t) + ["--value-range", "0,2"]


# ---- leaderboards ------------------------------------------------------------------------------------
@case
def c_board_missing(t): return ["board", "show", str(t / "none.jsonl")]
@case
def c_board_is_folder(t): (t / "d.jsonl").mkdir(); return ["board", "show", str(t / "d.jsonl")]
@case
def c_board_invalid_json(t): return ["board", "show", str(_board(t, "{oops"))]
@case
def c_board_row_is_list(t): return ["board", "show", str(_board(t, "[1, 2]"))]
@case
def c_board_row_is_string(t): return ["board", "show", str(_board(t, '"row"'))]
@case
def c_board_missing_fields(t): return ["board", "show", str(_board(t, '{"model": "m"}'))]
@case
def c_board_value_is_text(t): return ["board", "show", str(_board(t, _row(value="high")))]
@case
def c_board_model_is_number(t): return ["board", "show", str(_board(t, _row(model=3)))]
@case
def c_board_ci_malformed(t): return ["board", "show", str(_board(t, _row(ci95=["a", None])))]
@case
def c_board_protocol_is_list(t): return ["board", "show", str(_board(t, _row(protocol=[1])))]
@case
def c_board_invalid_utf8(t): return ["board", "show", str(_board(t, raw=b'{"model": "\xc3\x28"}\n'))]
@case
def c_board_deep_nesting(t): return ["board", "show", str(_board(t, "[" * 50_000))]
@case
def c_board_empty_file(t): (t / "b.jsonl").write_text(""); return ["board", "show", str(t / "b.jsonl")]
@case
def c_board_wrong_suffix(t): (t / "b.txt").write_text(_row()); return ["board", "show", str(t / "b.txt")]
@case
def c_board_render_out_is_folder(t): (t / "o.md").mkdir(); return ["board", "render", str(_board(t)), "--out", str(t / "o.md")]
@case
def c_board_render_bad_format(t): return ["board", "render", str(_board(t)), "--format", "pdf"]


# ---- weights, generate, eval, others -----------------------------------------------------------------
@case
def c_weights_import_missing_file(t): return ["weights", "import", "inception-v3-tf", str(t / "none.pth")]
@case
def c_weights_import_unknown_name(t): (t / "w").write_bytes(b"x"); return ["weights", "import", "incepshun", str(t / "w")]
@case
def c_weights_import_mismatch(t): (t / "w").write_bytes(b"x"); return ["weights", "import", "inception-v3-tf", str(t / "w")]
@case
def c_generate_missing_run(t): return ["generate", str(t / "run"), "--num", "2", "--out", str(t / "o.npz")]
@case
def c_generate_absurd_seed_range(t): return ["generate", str(t / "run"), "--seeds", "0-99999999999", "--out", str(t / "o.npz")]
@case
def c_generate_garbage_seeds(t): return ["generate", str(t / "run"), "--seeds", "a-b", "--out", str(t / "o.npz")]
@case
def c_generate_huge_num(t): return ["generate", str(t / "run"), "--num", "10000000000", "--out", str(t / "o.npz")]
@case
def c_eval_unknown_metric(t): return ["eval", "--samples", str(_npz(t / "s.npz")), "--ref", "digits-test", "--metrics", "fdd"]
@case
def c_eval_missing_samples(t): return ["eval", "--samples", str(t / "nope.npz"), "--ref", "digits-test", "--metrics", "fd"]
@case
def c_papers_unknown(t): return ["papers", "show", "no-such-paper"]
@case
def c_train_unknown_family(t): return ["train", "transformer", "--dataset", "digits", "--out", str(t / "r")]
@case
def c_eval_unknown_option(t): return ["eval", "--samples", "digits-test", "--frobnicate"]


# ---- issue 20 -----------------------------------------------------------------------------------------------
def _result_json(t: Path, **change) -> Path:
    doc = {"metrics": {"fd": {"value": 1.0, "std": 0.1, "ci95": [0.8, 1.2]}}, "protocol": {"protocol": "p"},
           "samples": {"n": 4}, "reference": {"n": 4}}
    doc.update(change)
    p = t / "r.json"
    p.write_text(json.dumps(doc))
    return p


def _gate(p: Path) -> list[str]:
    return ["gate", "--candidate", str(p), "--baseline", str(p), "--rule", "fd<=+1", "--independent"]


@case
def c_result_samples_is_a_list(t): return _gate(_result_json(t, samples=[]))
@case
def c_result_reference_is_a_string(t): return _gate(_result_json(t, reference="x"))
@case
def c_result_std_is_a_string(t): return _gate(_result_json(t, metrics={"fd": {"value": 1.0, "std": "x"}}))
@case
def c_result_nested_200000_deep(t): (t / "r.json").write_text("[" * 200_000); return _gate(t / "r.json")
@case
def c_result_5000_digit_number(t): (t / "r.json").write_text('{"metrics": {"fd": {"value": ' + "9" * 5000 + "}}}"); return _gate(t / "r.json")
@case
def c_ref_mu_is_a_string_array(t):
    np.savez(t / "s.npz", mu=np.array(["a", "b"]), sigma=np.eye(2), sigma_sqrt=np.eye(2), n=np.int64(5),
             record=np.str_(json.dumps({"format": "genbench-refstats", "format_version": "1"})))
    return ["eval", "--samples", str(_npz(t / "f.npz")), "--ref", str(t / "s.npz"), "--extractor", "pixels",
            "--metrics", "fd", "--no-cache"]
@case
def c_export_out_contains_input(t):
    (t / "out").mkdir()
    src = _npz(t / "out" / "in.npz")
    return ["export", str(src), "--out", str(t / "out"), "--overwrite"]
@case
def c_export_out_inside_input_folder(t): return ["export", str(_pngs(t / "p")), "--out", str(t / "p" / "sub")]
@case
def c_ref_out_is_its_input(t): return ["ref", str(_npz(t / "s.npz")), "--extractor", "pixels", "--out", str(t / "s.npz")]
@case
def c_ref_out_foreign_npz(t): _npz(t / "mine.npz"); return ["ref", "digits-test", "--extractor", "pixels", "--out", str(t / "mine.npz")]
@case
def c_ref_sibling_is_foreign(t):
    _npz(t / "a.pixels.npz")
    return ["ref", "digits-test", "--protocol", "digits-default", "--out", str(t / "a.npz")]
@case
def c_export_planted_marker(t):
    _pngs(t / "photos")
    (t / "photos" / ".genbench-output").write_text("")
    return ["export", str(_npz(t / "s.npz")), "--out", str(t / "photos"), "--overwrite"]
@case
def c_export_out_is_a_symlink(t):
    (t / "real").mkdir()
    (t / "link").symlink_to(t / "real")
    return ["export", str(_npz(t / "s.npz")), "--out", str(t / "link"), "--overwrite"]
@case
def c_board_row_with_bidi_override(t): return ["board", "show", str(_board(t, _row(model="evil\u202egnp.exe")))]
@case
def c_gate_name_with_bidi_isolate(t):
    return [*_gate(_result_json(t)), "--name", "a\u2066b"]


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    argv = CASES[name](work)
    before = _snapshot(work)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, f"{name}: exit {code}: {err}"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"genbench {argv[0]}") and ": error: " in err, err
    assert _snapshot(work) == before, f"{name}: files were written or changed"
