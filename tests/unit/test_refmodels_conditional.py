"""Class conditioning for every image family, the VAE's fitted prior, LR and noise schedules, per-class metrics."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference_models as rm
from genbench.cli import main
from genbench.errors import ConfigError
from genbench.eval.per_class import per_class_metrics
from reference_models.base import lr_factor
from reference_models.configs import DDPMConfig, GANConfig, VAEConfig
from reference_models.family import get_preset
from reference_models.schedulers import cosine_betas
from reference_models.vae import fit_gaussians

COMMON = dict(steps=6, batch_size=8, checkpoint_every=3, log_every=2, micro_batch=4)
COND = {
    "vae": VAEConfig(image_size=8, channels=(8, 16), z_dim=4, conditional=True, prior="fitted", **COMMON),
    "gan": GANConfig(image_size=8, z_dim=8, g_channels=8, d_channels=8, conditional=True, **COMMON),
    "ddpm": DDPMConfig(image_size=8, base_channels=8, timesteps=40, sample_steps=4, conditional=True,
                       guidance=2.0, lr_schedule="cosine", warmup_steps=2, schedule="cosine", **COMMON),
}


@pytest.fixture(scope="module")
def cond_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("cond")
    return {f: (root / f, rm.train(f, "digits", out=root / f, config=cfg, device="cpu")) for f, cfg in COND.items()}


@pytest.mark.parametrize("family", sorted(COND))
def test_class_label_and_per_seed_determinism(cond_runs, family):
    run_dir, model = cond_runs[family]
    assert model.conditional
    x, labels = model.sample_labelled(range(6), class_label=7)
    assert labels == [7] * 6 and x.shape == (6, 3, 8, 8)
    # sample k depends only on seed k (and the class), also after reloading from disk
    again = rm.load(run_dir).sample_labelled([4, 5], class_label=7)[0]
    assert torch.equal(again, x[4:])
    free, free_labels = model.sample_labelled(range(6))  # labels drawn from the seeds
    assert free_labels == model.sample_labelled(range(6))[1] and all(0 <= v < 10 for v in free_labels)
    other = model.sample(range(6), class_label=2)
    assert not torch.equal(other, x)
    with pytest.raises(ConfigError, match="--class"):
        model.sample([0], class_label=10)


def test_guidance_only_for_diffusion(cond_runs):
    ddpm = cond_runs["ddpm"][1]
    assert ddpm.sampler_settings(class_label=1) == {"sampler": "ddim", "steps": 4, "eta": 0.0, "guidance": 2.0,
                                                    "class_label": 1}
    assert not torch.equal(ddpm.sample([0, 1], class_label=1, guidance=0.0), ddpm.sample([0, 1], class_label=1))
    for fam in ("gan", "vae"):
        with pytest.raises(ConfigError, match="only diffusion"):
            cond_runs[fam][1].sample([0], class_label=1, guidance=2.0)


def test_generate_cli_class(cond_runs, tmp_path, capsys):
    run_dir = cond_runs["gan"][0]
    assert main(["generate", str(run_dir), "--num", "3", "--class", "4", "--device", "cpu", "--no-progress",
                 "--out", str(tmp_path / "g.npz")]) == 0
    with np.load(tmp_path / "g.npz") as z:
        assert z["arr_1"].tolist() == [4, 4, 4]
    uncond = tmp_path / "vae"
    rm.train("vae", "digits", out=uncond, config=VAEConfig(image_size=8, channels=(8, 16), z_dim=4, **COMMON),
             device="cpu")
    capsys.readouterr()
    assert main(["generate", str(uncond), "--num", "3", "--class", "4", "--device", "cpu", "--no-progress",
                 "--out", str(tmp_path / "u.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not class-conditional" in err[0]
    assert main(["train", "gan2d", "--dataset", "toy2d-ring8", "--conditional", "--out", str(tmp_path / "g2")]) == 2
    assert "--conditional" in capsys.readouterr().err


def test_fitted_prior_matches_posterior_means(cond_runs):
    from reference_models.data import load_train_data

    net = cond_runs["vae"][1].net
    data = load_train_data("digits", "images", 8)
    with torch.no_grad():
        mu = net.encode(data.x, data.y)[0].double()
    for c in (0, 9):
        m = mu[data.y == c]
        assert torch.allclose(net.prior_mean[c].double(), m.mean(0), atol=1e-5)
        cov = net.prior_chol[c].double() @ net.prior_chol[c].double().T
        assert torch.allclose(cov, torch.cov(m.T, correction=0), atol=1e-4)
    assert net.prior_cdf[-1].item() == 1.0


def test_fit_gaussians_closed_form():
    g = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]], dtype=torch.float64)
    means, chols, counts = fit_gaussians([g, g[:1]])
    assert means[0].tolist() == [1.0, 2.0] and counts.tolist() == [4.0, 1.0]
    assert torch.allclose(chols[0] @ chols[0].T, torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64)), atol=1e-5)
    assert torch.equal(chols[1], torch.eye(2, dtype=torch.float64))  # too few rows: N(0, I)


def test_unconditional_fitted_prior_draws_components_per_seed(tmp_path):
    cfg = VAEConfig(image_size=8, channels=(8, 16), z_dim=4, prior="fitted", **COMMON)
    model = rm.train("vae", "digits", out=tmp_path / "v", config=cfg, device="cpu")
    assert not model.conditional
    x = model.sample(range(8))
    assert torch.equal(model.sample([6, 7]), x[6:])
    with pytest.raises(ConfigError, match="not class-conditional"):
        model.sample([0], class_label=1)


def test_cosine_schedule_closed_form():
    t, s = 50, 0.008
    betas = cosine_betas(t, s)
    f = lambda u: math.cos((u / t + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    alpha_bar = np.cumprod(1 - betas)
    assert alpha_bar[10] == pytest.approx(f(11) / f(0), rel=1e-12)
    assert betas.max() <= 0.999 and np.all(np.diff(betas[:-1]) > 0)


def test_lr_factor_warmup_and_cosine():
    cfg = get_preset("ddpm", "quick", steps=100, lr_schedule="cosine", warmup_steps=10)
    assert lr_factor(cfg, 0, 0, 100) == pytest.approx(0.1)
    assert lr_factor(cfg, 50, 0, 100) == pytest.approx(0.5)
    assert lr_factor(cfg, 100, 0, 100) == pytest.approx(0.0)
    assert lr_factor(cfg, 20, 20, 120) == pytest.approx(0.1)  # a phase starting at step 20
    const = get_preset("ddpm", "quick", steps=100, lr_schedule="constant", warmup_steps=0)
    assert lr_factor(const, 77, 0, 100) == 1.0
    with pytest.raises(ConfigError, match="lr_schedule"):
        get_preset("ddpm", "quick", lr_schedule="step")
    with pytest.raises(ConfigError, match="conditional"):
        get_preset("ddpm2d", "quick", conditional=True)


def test_per_class_metrics():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(200, 5))
    logits = np.zeros((200, 3))
    logits[np.arange(200), np.arange(200) % 3] = 1.0
    rows = per_class_metrics(emb, logits, emb, logits)
    assert [r["n"] for r in rows] == [67, 67, 66]
    for r in rows:
        assert r["fd"] == pytest.approx(0.0, abs=1e-6) and r["precision"] == 1.0 and r["recall"] == 1.0
        assert r["share"] == r["ref_share"]
    shifted = per_class_metrics(emb + np.where(np.arange(200) % 3 == 1, 10.0, 0.0)[:, None], logits, emb, logits)
    assert shifted[1]["fd"] == pytest.approx(500.0, rel=0.05) and shifted[1]["precision"] == 0.0
    assert shifted[0]["fd"] == pytest.approx(0.0, abs=1e-6)
    few = logits.copy()
    few[:, :] = 0
    few[:, 0] = 1
    assert math.isnan(per_class_metrics(emb, few, emb, logits)[1]["fd"])


def test_report_per_class_section():
    from pathlib import Path

    from genbench.board.leaderboard import Leaderboard
    from genbench.board.report import report_html

    board = Leaderboard.load(Path(__file__).resolve().parents[2] / "leaderboards" / "digits-tiny.jsonl")
    rows = [{"class": c, "n": 5, "share": 0.1, "ref_share": 0.1, "fd": 12.5 + c, "precision": 0.5,
             "recall": float("nan")} for c in range(10)]
    page = report_html(board, extra={"per_class": {"vae": rows}})
    assert 'id="per-class-fd"' in page and "<td>21.5</td>" in page and "<td>n/a</td>" in page
    assert 'id="per-class"' not in report_html(board)
