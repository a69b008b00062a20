"""Reference models: every family trains, checkpoints, reloads and samples deterministically (tiny configs, CPU)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import reference_models as rm
from genbench.errors import ConfigError, GenbenchError, InputError, UnknownNameError
from reference_models.configs import config_to_dict
from reference_models.family import config_from_dict, get_preset

# every registered family with its tiny preset and dataset: a new family file is tested without an edit here
TINY = {name: (fam.dataset, fam.presets["tiny"]) for name, fam in rm.FAMILIES.items()}
SEEDS = list(range(64))


def tiny_train(family: str, out: Path, **kw):
    dataset, cfg = TINY[family]
    return rm.train(family, dataset, out=out, config=cfg, device="cpu", **kw)


class _Runs(dict):
    """Family -> (run folder, trained model), each family trained on first use (so `-k vae` trains only vae)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, family: str):
        self[family] = (self.root / family, tiny_train(family, self.root / family))
        return self[family]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    return _Runs(tmp_path_factory.mktemp("refmodels"))


@pytest.mark.parametrize("family", list(TINY))
def test_train_save_reload_generate(runs, family):
    run_dir, model = runs[family]
    for name in ("model.safetensors", "config.json", "train_log.csv", "loss.png"):
        assert (run_dir / name).is_file(), name
    rec = json.loads((run_dir / "config.json").read_text())
    assert rec["family"] == family and rec["finished"] and rec["seed"] == 0
    assert rec["data"]["fingerprint"] and rec["torch_version"] and rec["genbench_version"]
    assert rec["config"] == config_to_dict(TINY[family][1])
    x = model.sample(SEEDS[:5])
    y = rm.load(run_dir).sample(SEEDS[:5])
    assert torch.equal(x, y)
    if model.kind == "images":
        assert x.dtype == torch.uint8 and x.shape == (5, 3, 8, 8)
    else:
        assert x.dtype == torch.float64 and x.shape == (5, 2)


@pytest.mark.parametrize("family", list(TINY))
def test_sample_k_depends_only_on_seed_k(runs, family):
    model = runs[family][1]
    full = model.sample(SEEDS, batch_size=64)
    assert torch.equal(full, model.sample(SEEDS, batch_size=64))  # twice: identical bytes
    by7 = torch.cat([model.sample(SEEDS[i:i + 7], batch_size=7) for i in range(0, 64, 7)])
    by1 = torch.cat([model.sample([s], batch_size=1) for s in SEEDS[::9]])
    assert torch.equal(full, by7)
    assert torch.equal(full[::9], by1)
    assert torch.equal(model.sample(SEEDS[::-1]).flip(0), full)  # order of seeds does not matter either
    assert not torch.equal(full[0], full[1])


@pytest.mark.parametrize("family", ["gan", "ldm"])
def test_training_twice_gives_identical_weights(runs, tmp_path, family):
    tiny_train(family, tmp_path / "again")
    a = load_file(str(runs[family][0] / "model.safetensors"))
    b = load_file(str(tmp_path / "again" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("family", ["gan", "ldm", "ddpm2d"])
def test_resume_after_interruption_matches_uninterrupted(runs, tmp_path, family):
    out = tmp_path / "resumed"
    assert tiny_train(family, out, stop_after=5) is None  # "crash" after step 5; last checkpoint at step 3
    assert not (out / "model.safetensors").exists()
    assert json.loads((out / "ckpt" / "state.json").read_text())["step"] == 3
    tiny_train(family, out)
    a = load_file(str(runs[family][0] / "model.safetensors"))
    b = load_file(str(out / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = (out / "train_log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["2", "4", "6"]


def test_rerun_reuses_finished_run_and_refuses_other_config(runs, tmp_path):
    run_dir, model = runs["vae"]
    again = tiny_train("vae", run_dir)
    assert again.checkpoint_hash == model.checkpoint_hash
    with pytest.raises(ConfigError, match="different configuration"):
        rm.train("vae", "digits", out=run_dir, config=TINY["vae"][1], seed=1, device="cpu")


def test_ldm_labels_and_guidance(runs):
    model = runs["ldm"][1]
    x, labels = model.sample_labelled(SEEDS[:8])
    assert labels is not None and all(0 <= v < 10 for v in labels)
    assert model.sample_labelled(SEEDS[:8])[1] == labels  # labels drawn from the seeds
    x3, lab3 = model.sample_labelled(SEEDS[:4], class_label=3, guidance=0.0)
    assert lab3 == [3] * 4
    assert not torch.equal(model.sample(SEEDS[:4], class_label=3, guidance=4.0), model.sample(SEEDS[:4], class_label=3))
    with pytest.raises(ConfigError, match="--class"):
        model.sample([0], class_label=10)
    with pytest.raises(ConfigError, match="not class-conditional"):
        runs["ddpm"][1].sample([0], guidance=2.0)
    with pytest.raises(ConfigError, match="only diffusion"):
        runs["vae"][1].sample([0], sampler="ddim")


def test_diffusion_sampler_options(runs):
    model = runs["ddpm"][1]
    assert model.sampler_settings() == {"sampler": "ddim", "steps": 4, "eta": 0.0}
    assert model.sampler_settings(sampler="ddpm") == {"sampler": "ddpm", "steps": 40, "eta": 1.0}
    a = model.sample(SEEDS[:4], sampler="ddim", steps=10, eta=0.5)
    assert torch.equal(a, model.sample(SEEDS[:4], sampler="ddim", steps=10, eta=0.5))
    assert not torch.equal(a, model.sample(SEEDS[:4], sampler="ddpm", steps=10))
    for bad in (dict(steps=41), dict(eta=1.5), dict(sampler="euler"), dict(sampler="ddpm", eta=0.0)):
        with pytest.raises(ConfigError):
            model.sample([0], **bad)


def test_reconstruct(runs):
    from genbench.data import load_dataset

    real = torch.from_numpy(load_dataset("digits").data[:5].copy())
    for fam in ("vae", "ldm"):
        rec = runs[fam][1].reconstruct(real)
        assert rec.shape == (5, 3, 8, 8) and rec.dtype == torch.uint8


# ---- safe loading -------------------------------------------------------------------------------
def _copy_run(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_corrupt_and_mismatched_checkpoints_raise(runs, tmp_path):
    bad = _copy_run(runs["vae"][0], tmp_path / "corrupt")
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt"):
        rm.load(bad)
    mixed = _copy_run(runs["vae"][0], tmp_path / "mixed")
    (mixed / "model.safetensors").write_bytes((runs["gan"][0] / "model.safetensors").read_bytes())
    with pytest.raises(InputError, match="another run"):
        rm.load(mixed)
    edited = _copy_run(runs["vae"][0], tmp_path / "edited")
    rec = json.loads((edited / "config.json").read_text())
    rec["config"]["z_dim"] = 5
    (edited / "config.json").write_text(json.dumps(rec))
    with pytest.raises(InputError, match="config_hash"):
        rm.load(edited)
    rec["config"]["z_dim"] = -1
    (edited / "config.json").write_text(json.dumps(rec))
    with pytest.raises(ConfigError, match="z_dim"):
        rm.load(edited)
    rec["family"] = "flow"
    (edited / "config.json").write_text(json.dumps(rec))
    with pytest.raises(UnknownNameError, match="flow"):
        rm.load(edited)
    with pytest.raises(InputError, match="no config.json"):
        rm.load(tmp_path)


def test_bad_names_and_seeds(runs, tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean"):
        rm.train("ddmp", "digits", out=tmp_path / "x")
    with pytest.raises(UnknownNameError, match="preset"):
        get_preset("ddpm", "huge")
    with pytest.raises(ConfigError, match="unknown field"):
        get_preset("ddpm", "quick", pack=2)
    with pytest.raises(ConfigError, match="trains on points"):
        rm.train("gan2d", "digits", out=tmp_path / "y", config=TINY["gan2d"][1])
    with pytest.raises(ConfigError):
        runs["gan"][1].sample("5-1")
    with pytest.raises(ConfigError):
        runs["gan"][1].sample([1, 1])
    with pytest.raises(ConfigError, match="micro_batch"):
        config_from_dict("vae", {**config_to_dict(TINY["vae"][1]), "micro_batch": 0})


def test_presets_are_valid_and_round_trip():
    for family, presets in rm.presets().items():
        assert {"tiny", "quick", "full"} <= set(presets)
        for cfg in presets.values():
            assert config_from_dict(family, json.loads(json.dumps(config_to_dict(cfg)))) == cfg
    assert rm.presets()["gan2d"]["pacgan2"].pack == 2 and rm.presets()["gan2d"]["paper"].pack == 1
    paper = rm.presets()["gan2d"]["paper"]
    assert paper.g_hidden == (400,) * 4 and paper.d_hidden == (200,) * 3 and paper.batch_size == 100
    assert len(rm.FAMILIES) >= 6 and rm.family_names() == sorted(rm.FAMILIES.names())


def test_preset_with_overrides_dict(tmp_path):
    """The call the PacGAN reproduction makes: a preset, a step override and an overrides dict."""
    m = rm.train("gan2d", dataset="toy2d-ring8", preset="paper", out=tmp_path / "p", seed=1, device="cpu",
                 steps=2, overrides={"pack": 2})
    assert m.config.pack == 2 and m.config.steps == 2 and m.record["preset"] == "paper"
    assert m.sample(range(3)).shape == (3, 2)
    assert get_preset("ldm", "quick", steps=40).ae_steps == 10  # --steps keeps the autoencoder's share


def test_a_family_must_train_on_a_known_dataset():
    import dataclasses

    from reference_models.family import FAMILIES, get_family
    from genbench.registry import Registry

    registry = Registry("model family", check=FAMILIES._check)
    with pytest.raises(ValueError, match="unknown dataset 'digitz' \\(did you mean 'digits'\\?\\)"):
        registry.add("vae", dataclasses.replace(get_family("vae"), dataset="digitz"))
