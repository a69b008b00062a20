"""Gating a metric whose input rows of output roles cannot rebuild: stacked_modes_captured reads per-channel
digit classes derived from the images (channel_classes). `--save-features` stores those rows; the gate
reads them from the baseline's file, derives the candidate's from its images, and pairs (issue #17)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genbench.cli import main
from genbench.compare.features_file import read_features, sha256_of, write_features
from genbench.features.digits import classify_channels

N = 300  # the protocol fixes 10,000; --allow-n-mismatch keeps this test to seconds
PROTO = "stacked-digits-default"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """base.json + its features file (first N stacked digits), the same samples again, and a collapsed
    candidate (20 distinct images repeated: at most 20 modes), both as samples and as a recorded result."""
    from genbench.data import load_dataset

    root = tmp_path_factory.mktemp("gatederived")
    x = np.asarray(load_dataset("stacked-digits").data)[:N]  # [N, 3, 8, 8] uint8
    np.savez(root / "base.npz", arr_0=x.transpose(0, 2, 3, 1))
    np.savez(root / "same.npz", arr_0=x.transpose(0, 2, 3, 1))
    np.savez(root / "collapsed.npz", arr_0=x[np.arange(N) % 20].transpose(0, 2, 3, 1))
    args = ["--protocol", PROTO, "--metrics", "modes", "--bootstrap", "0", "--cache-dir", str(root / "home")]
    for name in ("base", "collapsed"):
        assert main(["eval", "--samples", str(root / f"{name}.npz"), "--json", str(root / f"{name}.json"),
                     "--save-features", *args]) == 0
    (root / "base.npz").unlink()  # the gate sees the baseline's result and its features file only
    np.save(root / "images.npy", x)
    return root


def _gate(root: Path, cand: str, base: str = "base.json") -> tuple[int, dict | None]:
    out = root / "gate.json"
    out.unlink(missing_ok=True)
    code = main(["gate", "--candidate", str(root / cand), "--baseline", str(root / base), "--allow-n-mismatch",
                 "--num-samples", str(N), "--bootstrap", "20", "--cache-dir", str(root / "fresh-cache"),
                 "--json", str(out), "--quiet"])  # stderr: the verdict's warnings and errors only
    return code, json.loads(out.read_text()) if out.is_file() else None


def _copy(src: Path, dst: Path, *names: str) -> None:
    for n in names:
        shutil.copy(src / n, dst / n)


def test_save_features_stores_channel_classes_as_integer_rows(recorded: Path) -> None:
    rec = json.loads((recorded / "base.json").read_text())["samples"]["features_file"]
    ff = read_features(recorded / rec["path"], rec["sha256"])
    rows = ff.derived_of("digits-classifier")
    assert set(rows) == {"channel_classes"} and rows["channel_classes"].dtype == np.int64
    assert np.array_equal(rows["channel_classes"], classify_channels(np.load(recorded / "images.npy")))
    prov = ff.provenance["digits-classifier"]["channel_classes"]
    assert prov["sources"] == ["images"] and "stacked-channels" in prov["traits"]
    assert prov["derived_by"] == "genbench.features.digits._channel_classes"


def test_unchanged_candidate_pairs_and_passes(recorded: Path) -> None:
    code, report = _gate(recorded, "same.npz")
    assert code == 0 and report["paired"] is True and report["fallback_reason"] is None
    (rule,) = report["rules"]
    assert rule["metric"] == "stacked_modes_captured" and rule["diff"] == 0 and rule["status"] == "pass"


@pytest.mark.parametrize("candidate", ["collapsed.npz", "collapsed.json"])
def test_candidate_missing_modes_fails(recorded: Path, candidate: str) -> None:
    code, report = _gate(recorded, candidate)
    assert code == 1 and report["paired"] is True
    (rule,) = report["rules"]
    assert rule["status"] == "fail" and rule["candidate"] <= 20 and rule["baseline"] - rule["candidate"] > 20


def test_tampered_derived_rows_are_refused(recorded: Path, tmp_path: Path, capsys) -> None:
    _copy(recorded, tmp_path, "base.json", "base.features.npz", "same.npz")
    ff = read_features(tmp_path / "base.features.npz")
    ext = "digits-classifier"
    zeros = {ext: {"channel_classes": np.zeros_like(ff.derived_of(ext)["channel_classes"])}}
    write_features(tmp_path / "base.features.npz", ff.fingerprint, ff.n, ff.rows, ff.identities, zeros,
                   ff.provenance)
    capsys.readouterr()
    assert _gate(tmp_path, "same.npz")[0] == 2  # the hash R.json records no longer matches
    assert "sha256" in capsys.readouterr().err
    base = json.loads((tmp_path / "base.json").read_text())
    base["samples"]["features_file"]["sha256"] = sha256_of(tmp_path / "base.features.npz")
    (tmp_path / "base.json").write_text(json.dumps(base))  # hash forged too: the recomputed value disagrees
    assert _gate(tmp_path, "same.npz")[0] == 2
    assert "metric 'stacked_modes_captured' is recorded as" in capsys.readouterr().err


def test_features_file_without_the_derived_rows_is_refused_clearly(recorded: Path, tmp_path: Path,
                                                                   capsys) -> None:
    _copy(recorded, tmp_path, "base.json", "base.features.npz", "same.npz")
    ff = read_features(tmp_path / "base.features.npz")
    write_features(tmp_path / "base.features.npz", ff.fingerprint, ff.n, ff.rows, ff.identities)  # as before #17
    base = json.loads((tmp_path / "base.json").read_text())
    base["samples"]["features_file"]["sha256"] = sha256_of(tmp_path / "base.features.npz")
    (tmp_path / "base.json").write_text(json.dumps(base))
    capsys.readouterr()
    assert _gate(tmp_path, "same.npz")[0] == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "'stacked_modes_captured'" in err and "channel_classes (from the images)" in err
    assert "base.features.npz stores no such rows" in err


def test_programmatic_paired_path_derives_both_sides_from_images(recorded: Path) -> None:
    from genbench.compare.find_features import GateOptions, gate_tools, paired_differences
    from genbench.protocols import PROTOCOLS
    from genbench.sets.samples import open_samples

    proto = PROTOCOLS.get(PROTO)
    a, b = (open_samples(str(recorded / f)) for f in ("same.npz", "collapsed.npz"))
    ref = json.loads((recorded / "collapsed.json").read_text())["reference"]
    extractors, finder = gate_tools(proto, ["stacked_modes_captured"], GateOptions(cache_dir=False),
                                    {a.fingerprint: a, b.fingerprint: b})
    diffs = paired_differences(a.describe(), b.describe(), ref, ["stacked_modes_captured"], proto, finder,
                               extractors, reps=5, seed=0)
    d = diffs["stacked_modes_captured"]
    base = json.loads((recorded / "base.json").read_text())["metrics"]["stacked_modes_captured"]["value"]
    coll = json.loads((recorded / "collapsed.json").read_text())["metrics"]["stacked_modes_captured"]["value"]
    assert (d.a, d.b, d.diff) == (base, coll, base - coll) and d.diff > 20
