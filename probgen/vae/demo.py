"""The VAE part of ``probgen demo``: a 2-D-latent VAE (and an autoencoder) on offline digits, with each
number beside a reference that says what it is worth."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from probgen.vae.config import VAEConfig

QUICK = VAEConfig(data="digits", z_dim=2, hidden=(64,), epochs=2, iwae_samples=20, iwae_images=100,
                  ae_epochs=1, device="cpu")
FULL = VAEConfig(data="mnist-5k", z_dim=16, hidden=(400,), epochs=15, iwae_samples=500, iwae_images=500,
                 device="cpu")
CAPTIONS = {"samples": "VAE samples: decoded prior draws z ~ N(0, I)",
            "reconstructions": "Reconstructions (top row: test inputs, bottom row: their reconstructions)",
            "latent": "Latent space: posterior means of test digits",
            "ae_vs_vae": "Autoencoder vs VAE: the AE's codes form clusters with empty space between them, "
                         "and latents drawn from the region they occupy mostly fall in that space and decode "
                         "to blends and strokes; the VAE's prior covers its codes densely",
            "manifold": "Latent manifold: a grid of Gaussian quantiles decoded",
            "interpolations": "Interpolations between the codes of two test digits (one pair per row)",
            "curves": "ELBO per epoch (train and test)"}


def independent_pixels_log_likelihood(train: torch.Tensor, test: torch.Tensor) -> float:
    """Mean test log-likelihood (nats/image) of the trivial model: independent Bernoulli pixels with the
    training images' per-pixel means (add-one smoothed). Exact, so a reference any VAE should beat."""
    n = len(train)
    p = ((train.flatten(1).sum(0) + 1) / (n + 2)).clamp(1e-6, 1 - 1e-6)  # (D,)
    x = test.flatten(1)
    return float((x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean())


def run_demo(run, quick: bool) -> str:
    """Train, draw the figures into ``run/vae`` and return the Markdown section."""
    from probgen.vae.train import load_data, resolve_config, train_vae

    cfg = QUICK if quick else FULL
    result = train_vae(cfg, run.path / "vae")
    last = result.run.read_metrics()[-1]
    summary = json.loads((result.run.path / "summary.json").read_text())
    train, test = load_data(resolve_config(cfg))
    trivial = independent_pixels_log_likelihood(train.images, test.images)
    rel = {k: Path(v).relative_to(run.path) for k, v in result.figures.items()}
    lines = [
        "## VAE",
        "",
        f"`{result.vae}` trained with Pyro SVI ({cfg.epochs} epochs on `{cfg.data}`, binarised; fast path "
        f"FastTrace_ELBO + JointOptim Adam), {cfg.z_dim}-D latent space (drawn in the plane of its two "
        "leading principal directions when it has more than two dimensions).",
        "",
        f"- test ELBO: {float(last['test_elbo']):.2f} nats/image (higher is better). Reference: the "
        f"trivial model of independent pixels (each pixel's training mean) has an exact test "
        f"log-likelihood of {trivial:.2f} nats/image.",
        f"- test log-likelihood (IWAE, k={cfg.iwae_samples}, on {summary['iwae_images']} test images drawn "
        f"at random, every class present): {result.test_log_likelihood:.2f} nats/image; the ELBO is a "
        "lower bound on it.",
        f"- run folder: `{result.run.path.relative_to(run.path)}` (metrics.csv, checkpoints/last.pt, "
        "model.pt)",
        "",
    ]
    for key, cap in CAPTIONS.items():
        if key in rel:
            lines += [f"**{cap}**", "", f"![{cap}]({rel[key]})", ""]
    return "\n".join(lines)
