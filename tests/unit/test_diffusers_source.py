"""diffusers pipelines as sample sources: tiny random DDPM / DDIM / LDM pipelines saved to a temp folder."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from genbench.cli import main
from genbench.errors import ConfigError, InputError
from genbench.sets.samples import SampleSet, open_samples
from genbench.sets.diffusers import DiffusersOptions, load_pipeline

pytest.importorskip("diffusers")
from tests.diffusers_tiny import save_pipeline  # noqa: E402

SEEDS = [11, 3, 7, 0, 5]


@pytest.fixture(scope="module")
def pipes(tmp_path_factory):
    where = tmp_path_factory.mktemp("pipes")
    return {k: save_pipeline(k, where) for k in ("ddpm", "ddim", "ldm")}


def _gen(path, seeds, bs, **kw):
    return SampleSet.from_diffusers(path, seeds, DiffusersOptions(steps=2, batch_size=bs, device="cpu", **kw)).load()


@pytest.mark.parametrize("kind,eta", [("ddpm", None), ("ddim", 1.0), ("ldm", 0.0)])
def test_image_depends_only_on_its_seed(pipes, kind, eta):
    pipe = load_pipeline(pipes[kind], "cpu")  # loaded once, sampled four ways
    full = _gen(pipe, SEEDS, 2, eta=eta)  # [5, 3, 8, 8] uint8, calls of 2 (last one padded)
    assert full.shape == (5, 3, 8, 8) and full.dtype == np.uint8 and full.std() > 5
    assert np.array_equal(full, _gen(pipe, SEEDS, 3, eta=eta))  # other batch size
    assert np.array_equal(full[2:4], _gen(pipe, SEEDS[2:4], 2, eta=eta))  # other neighbours / positions
    assert np.array_equal(full[3:4], _gen(pipe, SEEDS[3:4], 1, eta=eta))  # alone
    assert not np.array_equal(full[0], full[1])


def test_matches_diffusers_single_seed_call(pipes):
    pipe = load_pipeline(pipes["ddpm"], "cpu")
    ref = pipe(batch_size=1, generator=torch.Generator().manual_seed(7), num_inference_steps=2, output_type="np").images
    ours = SampleSet.from_diffusers(pipes["ddpm"], [7], steps=2, batch_size=1, device="cpu").load()
    assert np.array_equal(ours[0], np.rint(ref[0].astype(np.float64) * 255).astype(np.uint8).transpose(2, 0, 1))


def test_bad_options_and_folders(pipes, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="LDMPipeline.*--eta 0"):
        _gen(pipes["ldm"], [0], 1, eta=0.5)
    with pytest.raises(ConfigError, match="DDPMPipeline has no eta"):
        _gen(pipes["ddpm"], [0], 1, eta=0.5)
    with pytest.raises(InputError, match="model_index.json"):
        _gen(tmp_path, [0], 1)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ConfigError, match="not supported.*DDPMPipeline"):
        _gen(tmp_path, [0], 1)
    monkeypatch.setitem(sys.modules, "diffusers", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install -e \.\[diffusers\]"):
        _gen(pipes["ddpm"], [0], 1)


def test_cli_generate_diffusers(pipes, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", "--diffusers", str(pipes["ddim"]), "--seeds", "3,7", "--steps", "2",
                 "--batch-size", "2", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    s = open_samples(out)
    assert len(s) == 2 and s.manifest["pipeline"] == "DDIMPipeline" and s.manifest["seeds"] == [3, 7]
    assert np.array_equal(s.load(), _gen(pipes["ddim"], [3, 7], 2))
    assert main(["generate", "run_dir", "--diffusers", str(pipes["ddim"]), "--num", "2", "--out", str(out)]) == 2
    assert "either a run folder" in capsys.readouterr().err


def test_reproduce_ddpm_cifar10_checks_weights_before_sampling(pipes, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))  # an empty weights store
    (tmp_path / "ref.npz").write_bytes(b"")
    code = main(["reproduce", "ddpm-cifar10", "--model", str(pipes["ddpm"]), "--num", "4",
                 "--ref", str(tmp_path / "ref.npz"), "--out", str(tmp_path / "work"), "--device", "cpu"])
    assert code == 2 and "inception" in capsys.readouterr().err.lower()
    assert not (tmp_path / "work").exists()


@pytest.mark.slow  # Inception-v3 at 299x299 on a CPU: about a minute
def test_reproduce_ddpm_cifar10_from_a_pipeline_folder(pipes, tmp_path, capsys):
    from genbench.sets.samples import SampleSet
    from tests.parity.inception_helpers import random_inception_weights

    weights = random_inception_weights(tmp_path / "inception.pth", seed=0, calibration_images=2)
    ref = tmp_path / "ref.npz"
    np.savez(ref, arr_0=SampleSet.from_dataset("digits").load()[:4].transpose(0, 2, 3, 1))
    code = main(["reproduce", "ddpm-cifar10", "--model", str(pipes["ddpm"]), "--num", "4", "--steps", "2",
                 "--ref", str(ref), "--out", str(tmp_path / "work"), "--batch-size", "4", "--device", "cpu",
                 "--weights", f"inception-v3-tf={weights}", "--allow-unverified-weights",
                 "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "fid" in out and "3.17" in out and "9.46" in out and "not comparable" in out
    assert len(open_samples(tmp_path / "work" / "ddpm-cifar10" / "samples-4.npz")) == 4
    assert json.loads((tmp_path / "r.json").read_text())["protocol"]["n_gen"] == 4
