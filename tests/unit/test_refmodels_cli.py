"""`genbench train` and `genbench generate`: files, manifests, identical bytes to the Python API, exit code 2."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import reference_models as rm
from genbench.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "ldm"
    code = main(["train", "ldm", "--dataset", "digits", "--steps", "4", "--seed", "3", "--device", "cpu",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_train_writes_run_folder(run_dir):
    rec = json.loads((run_dir / "config.json").read_text())
    assert rec["preset"] == "quick" and rec["config"]["steps"] == 4 and rec["seed"] == 3
    assert rec["config"]["ae_steps"] == 1 and rec["finished"]
    assert (run_dir / "loss.png").is_file() and (run_dir / "train_log.csv").is_file()


def test_generate_npz_and_png_match_api(run_dir, tmp_path):
    argv = ["generate", str(run_dir), "--seeds", "0-5", "--steps", "3", "--guidance", "1.5", "--device", "cpu",
            "--no-progress"]
    assert main(argv + ["--batch-size", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert main(argv + ["--batch-size", "1", "--out", str(tmp_path / "png")]) == 0
    model = rm.load(run_dir)
    api, labels = model.sample_labelled(range(6), steps=3, guidance=1.5)
    with np.load(tmp_path / "s.npz") as z:
        assert np.array_equal(z["arr_0"], api.numpy().transpose(0, 2, 3, 1))
        assert z["arr_1"].tolist() == labels
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(6)]
    assert np.array_equal(np.asarray(Image.open(pngs[2]).convert("RGB")), api[2].numpy().transpose(1, 2, 0))
    man = json.loads((tmp_path / "s.manifest.json").read_text())
    assert man["seeds"] == list(range(6)) and man["labels"] == labels
    assert man["checkpoint_sha256"] == model.checkpoint_hash
    assert man["sampler"] == {"sampler": "ddim", "steps": 3, "eta": 0.0, "guidance": 1.5}


def test_generate_class_and_points(run_dir, tmp_path):
    assert main(["generate", str(run_dir), "--num", "3", "--seed", "10", "--class", "7", "--steps", "2",
                 "--no-progress", "--out", str(tmp_path / "c.npz")]) == 0
    with np.load(tmp_path / "c.npz") as z:
        assert z["arr_1"].tolist() == [7, 7, 7]
    gan = tmp_path / "gan2d"
    assert main(["train", "gan2d", "--dataset", "toy2d-ring8", "--steps", "3", "--pack", "2", "--out", str(gan),
                 "--no-progress"]) == 0
    assert main(["generate", str(gan), "--num", "5", "--no-progress", "--out", str(tmp_path / "p.npz")]) == 0
    with np.load(tmp_path / "p.npz") as z:
        assert z["arr_0"].dtype == np.float64 and z["arr_0"].shape == (5, 2)


@pytest.mark.parametrize("argv, message", [
    (["train", "flow", "--dataset", "digits"], "unknown model family"),
    (["train", "ddpm", "--dataset", "digits", "--preset", "huge"], "unknown preset"),
    (["train", "ddpm", "--dataset", "digitz"], "unknown dataset"),
    (["train", "ddpm", "--dataset", "digits", "--pack", "2"], "--pack"),
    (["generate", "RUN", "--seeds", "9-3"], "--seeds"),
    (["generate", "RUN", "--num", "2", "--sampler", "ddim", "--steps", "5000"], "--steps"),
    (["generate", "RUN", "--num", "2", "--class", "12"], "--class"),
    (["generate", "NOWHERE", "--num", "2"], "config.json"),
])
def test_errors_exit_2_with_one_line(run_dir, tmp_path, capsys, argv, message):
    argv = [str(run_dir) if a == "RUN" else str(tmp_path / a) if a == "NOWHERE" else a for a in argv]
    assert main(argv + ["--out", str(tmp_path / "o.npz" if argv[0] == "generate" else tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_corrupt_weights_exit_2(run_dir, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    assert main(["generate", str(bad), "--num", "1", "--out", str(tmp_path / "x.npz")]) == 2
    assert "corrupt" in capsys.readouterr().err
