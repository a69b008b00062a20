"""Convolutional VAE (Kingma & Welling 2014) with a KL weight beta (Higgins et al. 2017, beta-VAE).

Encoder: ResBlock/stride-2 conv stack -> (mu, log sigma^2) of a Gaussian z [N, z_dim]; reparameterisation
z = mu + sigma * e. Decoder: linear -> conv stack -> per-pixel Bernoulli logits; pixel intensities in [0, 1]
are the Bernoulli targets, and the decoder mean sigmoid(logits) is the image. Loss per image:
BCE summed over pixels + beta * KL(q(z|x) || N(0, I)). Samples decode z drawn from the seed.

Options:
- conditional: a CVAE (Sohn et al. 2015): the label's one-hot code is appended to the encoder's features
  and to z at the decoder, q(z|x,y) and p(x|z,y); sampling decodes (z, y).
- prior 'fitted': ex-post density estimation (Ghosh et al. 2020, "From variational to deterministic
  autoencoders", sec. 4): after training, one full-covariance Gaussian per class is fitted (float64) to
  the posterior means of the training set, and z is drawn from that mixture (weights: class
  frequencies; a conditional model uses its label's component). It closes the gap between N(0, I) and the
  aggregate posterior ("prior holes") that makes plain VAE samples blurry and unlike the data.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.base import RefModel, adam, cpu_randn
from reference_models.configs import VAEConfig
from reference_models.data import DataInfo, TrainData
from reference_models.layers import ConvDecoder, ConvEncoder
from reference_models.sampling import Chunk, SampleOptions

PRIOR_JITTER = 1e-6  # added to the fitted covariances' diagonal before the Cholesky factorisation


class VAE(RefModel):
    family = "vae"
    log_keys = ("loss", "recon", "kl")

    def __init__(self, cfg: VAEConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        chans = cfg.channels
        self.ncls = info.num_classes if self.conditional else 0  # one-hot width (0: unconditional)
        self.feat = cfg.image_size // 2 ** (len(chans) - 1)  # spatial size of the feature map
        flat = chans[-1] * self.feat ** 2
        self.encoder = ConvEncoder(info.channels, chans)
        self.to_stats = nn.Linear(flat + self.ncls, 2 * cfg.z_dim)
        self.from_z = nn.Linear(cfg.z_dim + self.ncls, flat)
        self.decoder = ConvDecoder(info.channels, chans)
        k = max(info.num_classes, 1)  # prior components: one per class
        self.register_buffer("prior_mean", torch.zeros(k, cfg.z_dim))
        self.register_buffer("prior_chol", torch.eye(cfg.z_dim).repeat(k, 1, 1))
        self.register_buffer("prior_cdf", torch.arange(1, k + 1, dtype=torch.float64) / k)

    @property
    def conditional(self) -> bool:
        return bool(self.cfg.conditional and self.info.num_classes > 0)

    def _with_label(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([h, F.one_hot(y, self.ncls).to(h.dtype)], dim=1) if self.ncls else h

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self._with_label(self.encoder(x).flatten(1), y)
        mu, logvar = self.to_stats(h).chunk(2, dim=1)  # each [N, z_dim]
        return mu, logvar.clamp(-20, 10)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.from_z(self._with_label(z, y)).view(len(z), self.cfg.channels[-1], self.feat, self.feat)
        return self.decoder(h)  # [N, C, S, S] Bernoulli logits

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z, y)) * 2 - 1  # [N, C, S, S] in [-1, 1]

    def loss(self, x: torch.Tensor, e: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(x, y)
        z = mu + (0.5 * logvar).exp() * e  # reparameterisation trick
        target = (x + 1) / 2  # [N, C, S, S] in [0, 1]
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z, y), target, reduction="sum") / len(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / len(x)
        return {"loss": recon + self.cfg.beta * kl, "recon": recon, "kl": kl}

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": adam(self.parameters(), self.cfg.lr)}

    def train_step(self, x, y, gen, step, opt):
        e = cpu_randn((len(x), self.cfg.z_dim), gen, x.device)
        losses = self.loss(x, e, y if self.conditional else None)
        opt["opt"].zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt["opt"].step()
        return {k: float(v.detach()) for k, v in losses.items()}

    # ---- the fitted prior ----------------------------------------------------------------------
    @torch.no_grad()
    def after_training(self, data: TrainData) -> None:
        if self.cfg.prior != "fitted":
            return
        dev = self.prior_mean.device
        y_all = data.y if data.y is not None and self.info.num_classes > 0 else None
        mus = []
        for i in range(0, len(data), 256):
            y = None if y_all is None or not self.ncls else y_all[i:i + 256].to(dev)
            mus.append(self.encode(data.x[i:i + 256].to(dev), y)[0].double().cpu())
        mu = torch.cat(mus)  # [N, z_dim] float64
        groups = [mu] if y_all is None else [mu[y_all == c] for c in range(self.info.num_classes)]
        means, chols, counts = fit_gaussians(groups)
        self.prior_mean.copy_(means.float())
        self.prior_chol.copy_(chols.float())
        self.prior_cdf.copy_((counts.cumsum(0) / counts.sum()).to(self.prior_cdf))

    def sample_z(self, chunk: Chunk) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z [M, z_dim] for one chunk (and the prior component per row when the prior is fitted)."""
        e = chunk.init.randn(self.cfg.z_dim)  # [M, z_dim]
        if self.cfg.prior != "fitted":
            return e, None
        if self.conditional:
            comp = chunk.labels
        else:  # the seed's next normal u picks the component by an inverse-CDF draw of Phi(u) ~ U(0, 1)
            p = torch.special.ndtr(chunk.init.randn(1)[:, 0].double())  # [M]
            comp = torch.searchsorted(self.prior_cdf, p.contiguous()).clamp(max=len(self.prior_cdf) - 1)
        z = self.prior_mean[comp] + torch.einsum("mij,mj->mi", self.prior_chol[comp], e)
        return z, comp

    def generate(self, chunk: Chunk, opts: SampleOptions) -> torch.Tensor:
        z, _ = self.sample_z(chunk)
        return self.decode(z, chunk.labels if self.conditional else None)  # [M, C, S, S]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, S, S] in [-1, 1] -> decoder mean at the posterior mean, in [-1, 1] (unconditional models)."""
        if self.conditional:
            from genbench.errors import ConfigError

            raise ConfigError("reconstruct: a conditional VAE needs labels to encode; not supported")
        return self.decode(self.encode(x)[0])


def fit_gaussians(groups: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Maximum-likelihood Gaussian per group of float64 rows [n_k, d]: means [K, d], Cholesky factors
    [K, d, d] of (covariance + jitter I), and counts [K]. A group with fewer than 2 rows gets N(0, I)."""
    d = groups[0].shape[1]
    eye = torch.eye(d, dtype=torch.float64)
    means, chols, counts = [], [], []
    for g in groups:
        if len(g) < 2:
            means.append(torch.zeros(d, dtype=torch.float64))
            chols.append(eye)
        else:
            m = g.mean(0)
            cov = (g - m).T @ (g - m) / len(g)  # [d, d]
            means.append(m)
            chols.append(torch.linalg.cholesky(cov + PRIOR_JITTER * eye))
        counts.append(float(len(g)))
    return torch.stack(means), torch.stack(chols), torch.tensor(counts, dtype=torch.float64)
