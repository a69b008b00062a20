"""Reference statistics files (genbench ref / ref import / eval --ref ref.npz) and PrecomputedFeatures."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from genbench.cli import main
from genbench.errors import ConfigError, InputError
from genbench.eval.run import evaluate
from genbench.refs.build import build_reference, import_stats
from genbench.refs.stats import PrecomputedFeatures, RefStats

EXT = "digits-classifier"
METRICS = "fd,kd,pr,dc"


@pytest.fixture()
def ref_file(tmp_path: Path) -> Path:
    out = tmp_path / "digits-test.ref.npz"
    build_reference("digits-test", out, extractor=EXT, keep_features=True, cache_dir=False)
    return out


def _eval(ref, **kw):
    return evaluate("digits-train", ref, extractor=EXT, metrics=METRICS, bootstrap=0, cache_dir=False,
                    num_samples=120, **kw)


def test_round_trip_equals_source(ref_file: Path) -> None:
    a, b = _eval("digits-test"), _eval(str(ref_file))
    assert set(a.metrics) == set(b.metrics) == {"fd", "kd", "precision", "recall", "density", "coverage"}
    for k in a.metrics:  # FD from the file's cached sigma root: equal up to the singular covariance's
        # rounding (dead ReLU units of the digits classifier give zero eigenvalues whose sqrt amplifies noise)
        assert a.value(k) == pytest.approx(b.value(k), rel=1e-6 if k == "fd" else 1e-12, abs=1e-12), k
    assert b.protocol["reference_fingerprint"] == a.protocol["reference_fingerprint"]


def test_file_layout_no_pickle(ref_file: Path) -> None:
    with np.load(ref_file, allow_pickle=False) as z:
        keys = set(z.files)
        assert {"mu", "sigma", "sigma_sqrt", "n", "record", "features", "logits"} <= keys
        assert z["mu"].dtype == np.float64 and z["sigma"].dtype == np.float64
        assert z["features"].dtype == np.float32
        rec = json.loads(str(z["record"]))
        root = z["sigma_sqrt"]
        np.testing.assert_allclose(root @ root, z["sigma"], atol=1e-8)
    assert rec["extractor"] == EXT and rec["imported"] is False and rec["n"] == 359
    assert {"extractor_version", "preprocess", "weights_sha256", "source_fingerprint", "genbench_version",
            "format_version"} <= set(rec)


def test_stats_only_fd_and_skips(tmp_path: Path) -> None:
    out = tmp_path / "r.npz"
    build_reference("digits-test", out, extractor=EXT, cache_dir=False)
    res = evaluate("digits-train", str(out), extractor=EXT, metrics=None, bootstrap=0, cache_dir=False,
                   num_samples=120)
    want = evaluate("digits-train", "digits-test", extractor=EXT, metrics="fd", bootstrap=0, cache_dir=False,
                    num_samples=120)
    assert res.value("fd") == pytest.approx(want.value("fd"), rel=1e-6)
    assert "kd" in res.skipped and "--keep-features" in res.skipped["kd"]
    with pytest.raises(ConfigError, match="kd"):
        evaluate("digits-train", str(out), extractor=EXT, metrics="fd,kd", cache_dir=False)


def test_other_extractor_refused(ref_file: Path) -> None:
    with pytest.raises(ConfigError, match="digits-classifier.*pixels|pixels.*digits-classifier"):
        evaluate("digits-train", str(ref_file), extractor="pixels", metrics="fd", cache_dir=False)


def test_other_version_refused(ref_file: Path, tmp_path: Path) -> None:
    st = RefStats.load(ref_file)
    bad = RefStats(st.mu, st.sigma, st.n, dict(st.record, extractor_version="0-old"), st.sigma_sqrt)
    bad.save(tmp_path / "old.npz")
    with pytest.raises(ConfigError, match="0-old"):
        evaluate("digits-train", str(tmp_path / "old.npz"), extractor=EXT, metrics="fd", cache_dir=False)


def _features(seed: int, n: int = 200, d: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.3 + rng.standard_normal(d)).astype(np.float32)


def _foreign(tmp_path: Path, fmt: str, feats: np.ndarray) -> Path:
    mu, sigma = np.mean(feats, axis=0), np.cov(feats, rowvar=False)
    path = tmp_path / f"{fmt}.npz"
    if fmt == "pytorch-fid":  # pytorch_fid.fid_score.save_fid_stats
        np.savez_compressed(path, mu=mu, sigma=sigma)
    elif fmt == "clean-fid":  # cleanfid.fid.make_custom_stats
        np.savez_compressed(path, mu=mu, sigma=sigma)
    else:  # guided-diffusion reference batch: images + pool and spatial statistics
        imgs = np.random.default_rng(0).integers(0, 256, (len(feats), 8, 8, 3), dtype=np.uint8)
        np.savez(path, arr_0=imgs, mu=mu, sigma=sigma, mu_s=mu[:8], sigma_s=sigma[:8, :8])
    return path


@pytest.mark.parametrize("fmt", ["pytorch-fid", "adm", "clean-fid"])
def test_import_matches_pytorch_fid(tmp_path: Path, fmt: str) -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance

    from genbench.metrics.functional.fd import frechet_distance

    ref, fake = _features(1), _features(2)
    src = _foreign(tmp_path, fmt, ref)
    out = import_stats(src, fmt, EXT, tmp_path / "imp.npz", n=None if fmt == "adm" else 200)
    st = RefStats.load(out)
    assert st.record["imported"] is True and st.record["import_format"] == fmt
    with np.load(src) as z:
        want = calculate_frechet_distance(np.mean(fake, 0), np.cov(fake, rowvar=False), z["mu"], z["sigma"])
    got = frechet_distance(np.mean(fake.astype(np.float64), 0), np.cov(fake.astype(np.float64), rowvar=False),
                           st.mu, st.sigma)
    assert got == pytest.approx(want, rel=1e-6)
    if fmt == "adm":
        assert st.images is not None and st.images.shape == (200, 3, 8, 8)


def test_import_clean_fid_feats(tmp_path: Path) -> None:
    feats = _features(3)
    np.savez_compressed(tmp_path / "x_kid.npz", feats=feats)  # cleanfid's KID file
    st = RefStats.load(import_stats(tmp_path / "x_kid.npz", "clean-fid", EXT, tmp_path / "o.npz"))
    assert st.n == 200 and "embedding" in st.features
    np.testing.assert_allclose(st.mu, feats.astype(np.float64).mean(0))


def test_import_refusals(tmp_path: Path) -> None:
    src = _foreign(tmp_path, "pytorch-fid", _features(1, d=2048 // 16))
    with pytest.raises(InputError, match="128.*64|64-d"):
        import_stats(src, "pytorch-fid", EXT, tmp_path / "o.npz")
    f = _features(1)
    sig = np.cov(f, rowvar=False)
    np.savez(tmp_path / "asym.npz", mu=f.mean(0), sigma=sig + np.triu(np.ones_like(sig)))
    with pytest.raises(InputError, match="symmetric"):
        import_stats(tmp_path / "asym.npz", "pytorch-fid", EXT, tmp_path / "o.npz", n=200)
    sig[0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", mu=f.mean(0), sigma=sig)
    with pytest.raises(InputError, match="NaN"):
        import_stats(tmp_path / "nan.npz", "pytorch-fid", EXT, tmp_path / "o.npz", n=200)


def test_foreign_file_as_ref_says_import(tmp_path: Path) -> None:
    src = _foreign(tmp_path, "pytorch-fid", _features(1))
    with pytest.raises(InputError, match="ref import"):
        evaluate("digits-train", str(src), extractor=EXT, metrics="fd", cache_dir=False)


def test_cli_ref_and_import(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.npz"
    assert main(["ref", "digits-test", "--extractor", EXT, "--out", str(out), "--no-cache", "--quiet"]) == 0
    assert main(["eval", "--samples", "digits-train", "--ref", str(out), "--extractor", EXT, "--metrics", "fd",
                 "--num-samples", "100", "--bootstrap", "0", "--no-cache", "--quiet"]) == 0
    src = _foreign(tmp_path, "pytorch-fid", _features(1))
    assert main(["ref", "import", str(src), "--format", "pytorch-fid", "--extractor", EXT, "--n", "200",
                 "--out", str(tmp_path / "i.npz")]) == 0
    capsys.readouterr()
    assert main(["ref", "import", str(src), "--format", "pytorch-fid", "--extractor", "pixels",
                 "--out", str(tmp_path / "i.txt")]) == 2
    assert "must end in .npz" in capsys.readouterr().err


def test_precomputed_features_equal_images(tmp_path: Path) -> None:
    from genbench.features.extract import build_extractor, extract
    from genbench.sets.samples import open_samples

    ext = build_extractor(EXT, device="cpu")
    fake, real = open_samples("digits-train").take(80), open_samples("digits-test").take(90)
    pf = PrecomputedFeatures({EXT: extract(ext, fake)}, fake.fingerprint, "digits-train[:80]", fake.labels)
    pr = PrecomputedFeatures({EXT: extract(ext, real)}, real.fingerprint, "digits-test[:90]", real.labels)
    kw = dict(extractor=EXT, metrics="fd,pr,classifier_score,modes", bootstrap=3, cache_dir=False)
    a, b = evaluate(fake, real, **kw), evaluate(pf, pr, **kw)
    assert a.to_json()["metrics"] == b.to_json()["metrics"]
