"""The evaluation path: one decode per set, no network (nor extractor) on a warm cache, cache checksums,
and validation before any work (#8 item 2, #11 items 2 and 5)."""
from __future__ import annotations

import io
import re
import sys

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genbench.features.extract as extract_mod
import genbench.sets.samples as samples_mod
from genbench.cli import main
from genbench.errors import ConfigError, GenbenchError
from genbench.eval.run import evaluate
from genbench.features.digits import DigitsClassifier
from genbench.features.pixels import Pixels

N_FAKE, N_REF = 24, 30
pytestmark = pytest.mark.filterwarnings("ignore:FD.*covariance is singular:UserWarning")


def _png_dir(path: Path, n: int, seed: int) -> Path:
    from genbench.data import load_dataset

    path.mkdir()
    imgs = load_dataset("digits").data[seed * 100: seed * 100 + n]  # [n, 3, 8, 8] uint8
    for i, im in enumerate(imgs):
        Image.fromarray(im.transpose(1, 2, 0)).save(path / f"{i:03d}.png")
    return path


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return _png_dir(tmp_path / "fake", N_FAKE, 1), _png_dir(tmp_path / "ref", N_REF, 2)


@pytest.fixture()
def counters(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"decode": 0, "forward": 0, "build": 0}

    def wrap(owner, name, key):
        orig = getattr(owner, name)

        def counted(*a, **kw):
            counts[key] += 1
            return orig(*a, **kw)

        monkeypatch.setattr(owner, name, counted)

    # the per-image decoder the folder reader calls (named decode_image once image files have their module)
    wrap(samples_mod, "decode_image" if hasattr(samples_mod, "decode_image") else "_decode", "decode")
    wrap(DigitsClassifier, "forward", "forward")
    wrap(Pixels, "forward", "forward")
    wrap(extract_mod, "build_extractor", "build")
    return counts


def _run(fake: Path, ref: Path, cache: Path):
    # two feature spaces (digits classifier + pixels) and an image metric, all from one decode per set
    return evaluate(str(fake), str(ref), protocol="digits-default", metrics="fd,ssim_diversity",
                    cache_dir=str(cache), bootstrap=0, num_samples=N_FAKE)


def test_one_decode_cold_no_network_warm(folders, counters, tmp_path: Path) -> None:
    fake, ref = folders
    cold = _run(fake, ref, tmp_path / "cache")
    assert counters["decode"] == N_FAKE + N_REF  # every image decoded exactly once
    assert counters["forward"] > 0 and counters["build"] == 2
    for k in counters:
        counters[k] = 0
    warm = _run(fake, ref, tmp_path / "cache")
    assert counters == {"decode": N_FAKE + N_REF, "forward": 0, "build": 0}
    assert warm.to_json()["metrics"] == cold.to_json()["metrics"]
    assert {"fd", "fd_pixels", "ssim_diversity"} <= set(warm.metrics)
    assert warm.protocol["extractors"] == cold.protocol["extractors"]


def test_zeroed_cache_entry_is_recomputed(folders, tmp_path: Path) -> None:
    fake, ref = folders
    cache = tmp_path / "cache"
    good = _run(fake, ref, cache).value("fd")
    entries = sorted((cache / "features").rglob("*.npz"))
    assert entries
    for e in entries:  # valid structure, wrong content, checksum left as it was
        with np.load(e) as z:
            arrays = {k: (z[k] if k == "checksum" else np.zeros_like(z[k])) for k in z.files}
        np.savez(e, **arrays)
    with pytest.warns(UserWarning, match="checksum"):
        again = _run(fake, ref, cache).value("fd")
    assert again == good and again > 0


def test_all_skips_unequal_ssim_recon(folders) -> None:
    fake, ref = folders
    res = evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="all", cache_dir=False, bootstrap=0)
    assert "equal sizes" in res.skipped["ssim_recon"]
    assert "fd" in res.metrics


def test_explicit_unfit_metric_fails_before_any_work(folders, counters) -> None:
    fake, ref = folders
    with pytest.raises(ConfigError, match="ssim_recon.*equal sizes"):
        evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="fd,ssim_recon", cache_dir=False)
    assert counters == {"decode": 0, "forward": 0, "build": 0}
    with pytest.raises(ConfigError, match="copying"):
        evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="fd,copying", cache_dir=False)
    assert counters == {"decode": 0, "forward": 0, "build": 0}


def test_output_names_accepted(folders) -> None:
    fake, ref = folders
    res = evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="precision,coverage,fd",
                   cache_dir=False, bootstrap=0)
    assert set(res.metrics) == {"precision", "coverage", "fd"}
    with pytest.raises(GenbenchError, match="did you mean 'precision'"):
        evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="precison", cache_dir=False)


def test_unknown_weights_name_is_an_error(folders) -> None:
    fake, ref = folders
    with pytest.raises(GenbenchError, match="inceptoin"):
        evaluate(str(fake), str(ref), extractor="digits-classifier", metrics="fd", cache_dir=False,
                 weights={"inceptoin-v3-tf": "/x.pth"})


@pytest.mark.parametrize("case", ["json-dir", "json-parent", "board-bad", "board-suffix"])
def test_outputs_validated_before_work(case, folders, counters, tmp_path: Path, capsys) -> None:
    fake, ref = folders
    args = ["eval", "--samples", str(fake), "--ref", str(ref), "--extractor", "digits-classifier",
            "--metrics", "fd", "--no-cache", "--quiet"]
    board = tmp_path / "b.jsonl"
    json_out = tmp_path / "r.json"
    if case == "json-dir":
        json_out = tmp_path
    elif case == "json-parent":
        json_out = tmp_path / "nope" / "r.json"
    elif case == "board-bad":
        board.write_text("{not json\n")
    else:
        board = tmp_path / "b.txt"
    rc = main(args + ["--json", str(json_out), "--add-to", str(board), "--name", "m"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert counters["decode"] == 0 and counters["forward"] == 0
    assert not (tmp_path / "r.json").exists()


def test_weights_hashed_once_then_memoised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import genbench.features.weights as W
    from genbench.features.identity import extractor_identity

    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    fake_weights = tmp_path / "w.pt"
    fake_weights.write_bytes(b"not really CLIP" * 1000)
    calls = []
    orig = W.sha256_file
    monkeypatch.setattr(W, "sha256_file", lambda p: calls.append(p) or orig(p))
    a = extractor_identity("clip-vit-b-32", fake_weights, allow_unverified=True)
    W._sha256_cached.cache_clear()  # a new process: only the on-disk memo remains
    b = extractor_identity("clip-vit-b-32", fake_weights, allow_unverified=True)
    assert len(calls) == 1 and a == b and a.weights.verified is False
    fake_weights.write_bytes(b"other bytes")  # replaced: size and mtime change, so it is hashed again
    c = extractor_identity("clip-vit-b-32", fake_weights, allow_unverified=True)
    assert len(calls) == 2 and c.weights.sha256 != a.weights.sha256
    with pytest.raises(GenbenchError, match="allow-unverified-weights"):
        extractor_identity("clip-vit-b-32", fake_weights)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_only_when_asked(folders, capsys, monkeypatch) -> None:
    fake, ref = folders
    run = dict(extractor="digits-classifier", metrics="fd", cache_dir=False, bootstrap=2)
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", _Terminal())
        evaluate(str(fake), str(ref), progress=True, **run)
        err = sys.stderr.getvalue()
    assert "decode" in err and "features digits-classifier" in err and "bootstrap fd" in err
    assert re.search(r"bootstrap fd: [^\r]*0/2 ", err)  # a terminal gets tqdm; the bar counts the B = 2 replicates
    evaluate(str(fake), str(ref), progress=False, **run)
    assert capsys.readouterr().err == ""
    evaluate(str(fake), str(ref), progress=True, **run)  # stderr is not a terminal here: lines
    lines = capsys.readouterr().err.splitlines()
    assert f"genbench: decode {fake}"[:70] in "\n".join(lines)
    assert any(re.fullmatch(r"genbench: features digits-classifier 30/30 img \(\d+ s\)", x) for x in lines), lines
    assert any(re.fullmatch(r"genbench: bootstrap fd 2/2 replicate \(\d+ s\)", x) for x in lines), lines


def test_cli_progress_lines_in_a_log_file(folders, tmp_path, monkeypatch, capsys) -> None:
    """`genbench eval` with stderr to a file: a line per stage; --quiet: none."""
    fake, ref = folders
    argv = ["eval", "--samples", str(fake), "--ref", str(ref), "--extractor", "digits-classifier",
            "--metrics", "fd", "--no-cache", "--bootstrap", "2"]
    for extra, want in (([], True), (["--quiet"], False)):
        log = tmp_path / f"err{len(extra)}.log"
        with monkeypatch.context() as m, log.open("w") as fh:
            m.setattr(sys, "stderr", fh)
            assert main(argv + extra) == 0
        text = log.read_text()
        stages = ("features digits-classifier", "metrics digits-classifier", "bootstrap fd")
        assert all((f"genbench: {s} " in text) == want for s in stages), text
        assert all(re.fullmatch(r"genbench: .+ \d+(/\d+)? \S+(, .*)? \(\d+ s\)", x) for x in text.splitlines()), text
