"""Every bad input: exit code 2, one clear line naming the file/argument, no traceback, nothing written."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from genbench.cli import main


def _png_dir(path, n=4, sizes=None):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        h, w = sizes[i] if sizes else (8, 8)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path / f"{i}.png")
    return path


def _make(case: str, tmp):
    if case == "missing":
        return tmp / "nope", "nope"
    if case == "empty":
        (tmp / "empty").mkdir()
        return tmp / "empty", "no images"
    if case == "corrupt":
        d = _png_dir(tmp / "c")
        (d / "9.png").write_bytes(b"\x89PNG garbage")
        return d, "9.png"
    if case == "truncated":
        d = _png_dir(tmp / "t")
        data = (d / "3.png").read_bytes()
        (d / "3.png").write_bytes(data[:40])
        return d, "3.png"
    if case == "mixed":
        return _png_dir(tmp / "m", 3, [(8, 8), (8, 8), (9, 8)]), "differs"
    if case == "noarr0":
        np.savez(tmp / "x.npz", images=np.zeros((4, 8, 8, 3), np.uint8))
        return tmp / "x.npz", "arr_0"
    if case == "pickled":
        np.savez(tmp / "p.npz", arr_0=np.array([{"a": 1}, None], dtype=object))
        return tmp / "p.npz", "pickle"
    if case == "dtype":
        np.save(tmp / "d.npy", np.zeros((4, 3, 8, 8), np.int64))
        return tmp / "d.npy", "dtype"
    if case == "norange":
        np.save(tmp / "f.npy", np.zeros((4, 3, 8, 8), np.float32))
        return tmp / "f.npy", "value range"
    if case == "nan":
        a = np.zeros((4, 3, 8, 8), np.float32)
        a[1, 0, 0, 0] = np.nan
        np.save(tmp / "n.npy", a)
        return tmp / "n.npy", "NaN"
    raise AssertionError(case)


CASES = ["missing", "empty", "corrupt", "truncated", "mixed", "noarr0", "pickled", "dtype", "norange", "nan"]


@pytest.mark.parametrize("case", CASES)
def test_bad_sample_inputs_exit_2(case, tmp_path, capsys):
    path, needle = _make(case, tmp_path)
    out_json, cache = tmp_path / "r.json", tmp_path / "cache"
    extra = ["--value-range", "0,1"] if case == "nan" else []
    code = main(["eval", "--samples", str(path), "--ref", "digits-test", "--extractor", "pixels",
                 "--metrics", "fd", "--json", str(out_json), "--cache-dir", str(cache), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out_json.exists()
    assert not cache.exists() or not any(p.is_file() and p.suffix == ".npz" for p in cache.rglob("*"))


@pytest.mark.parametrize("args,needle", [
    (["--metrics", "fdd"], "did you mean"),
    (["--extractor", "pixles"], "did you mean"),
    (["--num-samples", "5000"], "only"),
    (["--batch-size", "0"], "positive"),
])
def test_bad_arguments_exit_2(args, needle, tmp_path, capsys):
    base = ["eval", "--samples", "digits-test", "--ref", "digits-train", "--cache-dir", str(tmp_path)]
    if "--extractor" not in args:
        base += ["--extractor", "pixels"]
    if "--metrics" not in args:
        base += ["--metrics", "fd"]
    code = main(base + args)
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err


def test_too_few_samples_for_metric(tmp_path, capsys):
    code = main(["eval", "--samples", "digits-test", "--ref", "digits-train", "--extractor", "pixels",
                 "--metrics", "pr", "--num-samples", "2", "--cache-dir", str(tmp_path), "--bootstrap", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "pr" in err.lower() and "Traceback" not in err


def test_missing_weights_names_file_url_and_import_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    code = main(["eval", "--samples", "digits-test", "--ref", "digits-train", "--metrics", "fid",
                 "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert "weights-inception-2015-12-05-6726825d.pth" in err
    assert "genbench weights import inception-v3-tf" in err and "http" in err


def test_subprocess_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "genbench.cli", "eval", "--samples", str(tmp_path / "none"),
                           "--ref", "digits-test", "--extractor", "pixels", "--metrics", "fd"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "none" in proc.stderr


def test_prompt_template_needs_labels(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 3, 8, 8), np.uint8))
    code = main(["eval", "--samples", str(tmp_path / "x.npy"), "--ref", "digits-test", "--extractor", "pixels",
                 "--metrics", "fd", "--prompt-template", "a handwritten digit {label}", "--cache-dir", str(tmp_path)])
    assert code == 2 and "no class labels" in capsys.readouterr().err


def test_prompts_from_template_uses_labels():
    from genbench.eval.run import prompts_from_template
    from genbench.sets.samples import open_samples

    s = open_samples("digits-test")
    p = prompts_from_template("a handwritten digit {label}", s)
    assert len(p) == len(s) and p[0] == f"a handwritten digit {int(s.labels[0])}"


def test_registration_refused_at_import_exits_2(monkeypatch, capsys):
    """A protocol entry refused while a command's implementation imports (here one whose primary no space
    produces) is one line and exit 2 when the command runs, not a traceback; it is still a ValueError for
    Python callers. `--help` imports no implementation, so it still answers."""
    import dataclasses
    import importlib

    import genbench.cli as cli
    from genbench.commands import parsers
    from genbench.protocols import PROTOCOLS, validate_protocol

    bad = dataclasses.replace(PROTOCOLS.get("digits-default"), name="mine", primary="fdd")
    with pytest.raises(ValueError):
        validate_protocol(bad)
    real = importlib.import_module
    monkeypatch.setattr(parsers.importlib, "import_module",
                        lambda name: validate_protocol(bad) if name == "genbench.commands.eval" else real(name))
    assert cli.main(["eval", "--help"]) == 0
    capsys.readouterr()
    assert cli.main(["eval", "--samples", "digits-test", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genbench eval: error: protocol 'mine': primary 'fdd' is produced by no feature space")
    assert "did you mean 'fd'" in err and "Traceback" not in err and err.count("\n") == 1
