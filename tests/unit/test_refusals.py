"""Issue #27 refusals: a result JSON naming a key twice, seeds outside [0, 2**63 - 1] at every entry point,
and a FIFO where genbench hashes files (each a GenbenchError with one line, never a hang or a traceback)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genbench.compare.result_schema import load_result
from genbench.errors import ConfigError, GenbenchError, InputError
from genbench.eval.options import EvalOptions
from genbench.eval.result import EvalResult
from genbench.io import file_sha256, foreign_entries, write_manifest
from genbench.metrics import MetricConfig
from genbench.seeding import MAX_SEED, check_seed
from tests.unit.test_gate_files import _valid


def test_a_result_with_one_key_twice_is_refused_by_both_readers(tmp_path: Path) -> None:
    text = json.dumps(_valid())
    forged = text.replace('"fd": {"value": 1.5', '"fd": {"value": 0.1, "std": 0.1, "ci95": [0, 0.2]}, '
                                                '"fd": {"value": 1.5', 1)
    path = tmp_path / "r.json"
    path.write_text(forged)
    with pytest.raises(InputError, match="duplicate key 'fd'"):
        load_result(path, "--baseline")
    with pytest.raises(InputError, match="duplicate key 'fd'"):
        EvalResult.load(path)
    path.write_text(text)
    assert load_result(path, "--baseline").metrics["fd"].value == 1.5


@pytest.mark.parametrize("seed", [-1, -5, MAX_SEED + 1, 1.5, True, "3"])
def test_bad_seeds_are_refused_at_every_entry(seed, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="seed"):
        check_seed(seed)
    with pytest.raises(ConfigError, match="seed"):
        EvalOptions(seed=seed)
    with pytest.raises(ConfigError, match="seed"):
        MetricConfig(seed=seed)
    if isinstance(seed, int) and not isinstance(seed, bool):
        doc = _valid()
        doc["protocol"]["seed"] = seed
        path = tmp_path / "r.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(InputError, match="seed"):
            load_result(path, "--candidate")


def test_evaluate_with_a_negative_seed_fails_before_any_work() -> None:
    import genbench

    with pytest.raises(ConfigError, match="seed must be an int from 0"):
        genbench.evaluate("digits-train", "digits-test", metrics=["fd"], seed=-1)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_check_seed_takes_exactly_the_range(seed: int) -> None:
    if 0 <= seed <= MAX_SEED:
        assert check_seed(seed) == seed
    else:
        with pytest.raises(GenbenchError):
            check_seed(seed)


def test_a_fifo_is_never_hashed(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        file_sha256(fifo)  # returns at once: no writer is ever waited for


def test_a_fifo_listed_in_a_manifest_is_foreign(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"x")
    write_manifest(out)
    doc = json.loads((out / ".genbench-output").read_text())
    doc["files"]["pipe"] = "0" * 64
    (out / ".genbench-output").write_text(json.dumps(doc))
    os.mkfifo(out / "pipe")
    assert foreign_entries(out) == ["pipe"]


def _stats_parts(seed: int = 0, n: int = 40, d: int = 6):
    from genbench.refs.stats import mean_cov

    rows = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    mu, sigma = mean_cov(rows)
    return rows, mu, sigma


@pytest.mark.parametrize("edit,why", [
    (lambda r: r.__setitem__((3, 2), np.nan), "NaN or Inf"),
    (lambda r: r.__iadd__(3.0), "disagrees with the kept feature rows"),
])
def test_a_statistics_file_whose_parts_disagree_is_refused(edit, why) -> None:
    from genbench.refs.stats import RefStats

    rows, mu, sigma = _stats_parts()
    RefStats(mu, sigma, len(rows), {}, features={"embedding": rows})  # the parts agree: accepted
    edit(rows)
    with pytest.raises(InputError, match=why):
        RefStats(mu, sigma, len(rows), {}, features={"embedding": rows})


def test_kept_rows_of_string_dtype_are_one_clear_error() -> None:
    from genbench.refs.stats import RefStats

    rows, mu, sigma = _stats_parts()
    with pytest.raises(InputError, match="dtype"):
        RefStats(mu, sigma, len(rows), {}, features={"embedding": rows.astype(str)})


@pytest.mark.parametrize("edit,why", [("inf", "NaN or Inf"), ("shift_mu", "disagrees")])
def test_clean_fid_import_checks_feats_against_mu_and_sigma(tmp_path: Path, edit: str, why: str, capsys) -> None:
    from genbench.cli import main

    rows, mu, sigma = _stats_parts(1, n=50, d=64)
    if edit == "inf":
        rows[0, 0] = np.inf
    else:
        mu = mu + 1.0
    np.savez(tmp_path / "cf.npz", mu=mu, sigma=sigma, feats=rows)
    code = main(["ref", "import", str(tmp_path / "cf.npz"), "--format", "clean-fid", "--extractor",
                 "digits-classifier", "--out", str(tmp_path / "ref.npz")])
    err = capsys.readouterr().err
    assert code == 2 and why in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "ref.npz").exists()


def _forge_entry(path: Path, key: str, header_shape: tuple, body: bytes, compress: int = 0) -> None:
    """Rewrite one entry of a features file: an .npy header declaring `header_shape` float32, then `body`."""
    import io
    import zipfile

    entries = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            entries[info.filename] = z.read(info)
    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(buf, {"descr": "<f4", "fortran_order": False, "shape": header_shape})
    entries[f"{key}.npy"] = buf.getvalue() + body
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def _features_file(tmp_path: Path) -> Path:
    from genbench.compare.features_file import write_features

    path = tmp_path / "r.features.npz"
    rows = {"digits-classifier": {"embedding": np.zeros((4, 64), np.float32)}}
    write_features(path, "ab" * 32, 4, rows, {"digits-classifier": {"name": "digits-classifier"}})
    return path


@pytest.mark.parametrize("shape,body,compress,why", [
    ((10**12, 10**12), b"\0" * 64, 0, "declares shape"),  # a huge declaration over 64 real bytes
    ((200, 500_000), b"\0" * (200 * 500_000 * 4), 1, "compressed"),  # 400 MB that DEFLATE shrinks to 400 kB
    ((4, 500), b"\0" * (4 * 500 * 4), 0, "rows are \\[N, 64\\]"),  # the classifier's embedding is 64 wide
])
def test_features_file_declarations_are_checked_before_any_data_is_read(tmp_path, shape, body, compress, why):
    from genbench.compare.features_file import read_features
    from genbench.compare.verify import extractor_width

    path = _features_file(tmp_path)
    _forge_entry(path, "digits-classifier.embedding", shape, body, compress)
    with pytest.raises(InputError, match=why):
        read_features(path, widths=extractor_width)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=0, max_size=3),
       st.integers(min_value=0, max_value=256))
def test_any_declared_shape_is_read_or_refused_never_allocated(tmp_path_factory, shape, body_len):
    from genbench.compare.features_file import read_features

    path = _features_file(tmp_path_factory.mktemp("ff"))
    _forge_entry(path, "digits-classifier.embedding", tuple(shape), b"\0" * body_len)
    try:
        ff = read_features(path)
    except InputError:
        return
    assert ff.raw("digits-classifier")["embedding"].nbytes == body_len


@pytest.mark.parametrize("sizes", ["100,100000000", "100,9223372036854775808", "1,100"])
def test_power_sizes_are_bounded_before_any_work(sizes: str, capsys) -> None:
    from genbench.cli import main

    assert main(["power", "--protocol", "digits-default", "--baseline", "digits-train", "--kind", "noise", "--size", "25",
                 "--sizes", sizes]) == 2
    err = capsys.readouterr().err
    assert "--sizes" in err and len(err.strip().splitlines()) == 1


def test_power_seed_is_checked() -> None:
    from genbench.compare.power import PlanOptions

    with pytest.raises(ConfigError, match="--seed"):
        PlanOptions(seed=-1)


@pytest.mark.parametrize("extractor,metric", [("inception-v3-tf", "fid"), ("clip-vit-b-32", "cmmd")])
def test_a_pickled_weights_file_is_refused_in_one_line(tmp_path: Path, capsys, extractor: str, metric: str) -> None:
    import pickle

    from genbench.cli import main

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"a": object()}, protocol=4))
    code = main(["eval", "--samples", "digits-train", "--ref", "digits-test", "--extractor", extractor,
                 "--metrics", metric, "--num-samples",
                 "20", "--weights", f"{extractor}={evil}", "--allow-unverified-weights", "--cache-dir", str(tmp_path),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "evil.pth" in err, err


def test_messages_never_carry_terminal_escapes(capsys) -> None:
    """Issue #27: text quoted from a file or an argument (a skipped reason, a path) reached stderr raw."""
    from genbench.cli import main

    code = main(["eval", "--samples", "x\x1b]0;owned\x07\x1b[2J.npz", "--ref", "digits-test", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in err.rstrip("\n")), repr(err)


def test_outputs_through_a_link_are_refused_before_any_work(tmp_path: Path, capsys) -> None:
    """Issue #27 class 5: eval --save-features --json R.json (R.json a link) wrote R.features.npz first;
    gate --json gate.json (a link) printed its verdict before refusing. Both now refuse before any work."""
    from genbench.cli import main

    user = tmp_path / "users_file.txt"
    user.write_text("mine")
    (tmp_path / "R.json").symlink_to(user)
    code = main(["eval", "--samples", "digits-train", "--protocol", "digits-default", "--metrics", "fd",
                 "--num-samples", "50", "--json", str(tmp_path / "R.json"), "--save-features", "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "symbolic link" in err.err and err.out == ""
    assert user.read_text() == "mine" and not (tmp_path / "R.features.npz").exists()
    (tmp_path / "S.features.npz").symlink_to(user)
    code = main(["eval", "--samples", "digits-train", "--protocol", "digits-default", "--metrics", "fd",
                 "--num-samples", "50", "--json", str(tmp_path / "S.json"), "--save-features", "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "symbolic link" in err.err and err.out == "" and not (tmp_path / "S.json").exists()
    (tmp_path / "gate.json").symlink_to(user)
    code = main(["gate", "--candidate", "digits-train", "--baseline", "digits-train", "--protocol",
                 "digits-default", "--num-samples", "50", "--allow-n-mismatch", "--json",
                 str(tmp_path / "gate.json"), "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "symbolic link" in err.err and "verdict" not in err.out and user.read_text() == "mine"
