"""Figures of a trained VAE: samples, reconstructions, the latent space, the latent manifold (Kingma &
Welling, arXiv:1312.6114, Fig. 4), interpolations, and the autoencoder-vs-VAE latent-space comparison.

Every function takes the model and images, writes one PNG and returns its path. Latent spaces with more
than two dimensions are shown in the plane of their two leading principal directions (PCA of the
posterior means); the prior N(0, I) restricted to any orthonormal plane is N(0, I_2), so the manifold
grid's Gaussian quantiles stay meaningful there.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from probgen.data import make_loader
from probgen.plot import save_figure, save_image_grid, show_images


def pca_basis(codes: torch.Tensor) -> torch.Tensor:
    """Orthonormal (z_dim, 2) basis of the plane to show: identity for 2-D codes, else the top-2 PCs."""
    if codes.shape[1] == 2:
        return torch.eye(2, dtype=codes.dtype)
    centred = codes - codes.mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return vh[:2].T  # (z_dim, 2)


@torch.no_grad()
def samples_figure(vae, path: str | os.PathLike, n: int = 64) -> Path:
    """Decoded prior samples; for a conditional VAE one row per class."""
    if vae.num_classes:
        per = 8
        y = torch.arange(vae.num_classes).repeat_interleave(per)
        return save_image_grid(vae.sample(len(y), y=y), path, nrow=per,
                               title="VAE samples given the class (one row per class)")
    return save_image_grid(vae.sample(n), path, title="VAE samples: decoded draws z ~ N(0, I)")


@torch.no_grad()
def reconstructions_figure(vae, x: torch.Tensor, y, path: str | os.PathLike, n: int = 16) -> Path:
    """Top row: n inputs spread evenly over ``x`` (the offline splits are shuffled: a random sample);
    bottom row: their reconstructions."""
    idx = torch.linspace(0, len(x) - 1, min(n, len(x))).long()
    x = x[idx]
    y = y[idx] if vae.num_classes else None
    return save_image_grid(torch.cat([x, vae.reconstruct(x, y)]), path, nrow=len(x),
                           title="top: inputs; bottom: their VAE reconstructions")


@torch.no_grad()
def codes_of(model, x: torch.Tensor, y=None) -> torch.Tensor:
    """Latent codes (N, z_dim): posterior means for a VAE, encoder outputs for an autoencoder."""
    y = y if getattr(model, "num_classes", None) else None
    out = model.encode(x, y)
    return out[0] if isinstance(out, tuple) else out


def _scatter(ax, codes: torch.Tensor, labels: torch.Tensor, basis: torch.Tensor, title: str):
    pts = (codes @ basis).numpy()
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=labels.numpy(), cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
    ax.set_title(title)
    what = "z" if codes.shape[1] == 2 else "principal direction "
    ax.set_xlabel(f"{what}1")
    ax.set_ylabel(f"{what}2")
    ax.set_aspect("equal", adjustable="datalim")
    return sc


@torch.no_grad()
def latent_figure(vae, x: torch.Tensor, labels: torch.Tensor, path: str | os.PathLike) -> Path:
    """Posterior means of ``x`` coloured by label (2-D latents directly, else their PCA plane)."""
    codes = codes_of(vae, x, labels).cpu()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    how = "z" if vae.z_dim == 2 else f"PCA of the {vae.z_dim}-D posterior means"
    sc = _scatter(ax, codes, labels.cpu(), pca_basis(codes), f"latent space ({how})")
    fig.colorbar(sc, ax=ax, ticks=range(10), label="label")
    return save_figure(fig, path)


@torch.no_grad()
def manifold_figure(vae, path: str | os.PathLike, n: int = 20, basis: torch.Tensor | None = None,
                    y: int | None = None) -> Path:
    """Decode an n x n grid of Gaussian quantiles over the latent plane spanned by ``basis`` (z_dim, 2)."""
    basis = torch.eye(2) if basis is None and vae.z_dim == 2 else basis
    if basis is None:
        raise ValueError("`basis` is needed when z_dim > 2 (e.g. pca_basis of the posterior means)")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))  # (n,)
    a, b = torch.meshgrid(q, q.flip(0), indexing="xy")  # rows top to bottom: high to low second coordinate
    z = torch.stack([a.reshape(-1), b.reshape(-1)], 1) @ basis.T.to(torch.float32)  # (n*n, z_dim)
    z = z.to(vae.device)
    labels = None if not vae.num_classes else torch.full((len(z),), y or 0, dtype=torch.long)
    return save_image_grid(vae.decode(z, labels), path, nrow=n, padding=0,
                           title="VAE manifold: decoded Gaussian quantiles over a latent plane")


@torch.no_grad()
def interpolation_figure(vae, x: torch.Tensor, labels: torch.Tensor, path: str | os.PathLike,
                         pairs: int = 8, steps: int = 10) -> Path:
    """Each row decodes ``steps`` points on the line between the posterior means of two digits."""
    first = [int((labels == c).nonzero()[0]) for c in range(pairs) if (labels == c).any()]
    second = [int((labels == (c + 1) % 10).nonzero()[-1]) for c in range(pairs) if (labels == c).any()]
    ya = labels[first] if vae.num_classes else None
    za, zb = codes_of(vae, x[first], labels[first]), codes_of(vae, x[second], labels[second])
    t = torch.linspace(0, 1, steps, device=za.device).view(1, -1, 1)
    z = (za[:, None] * (1 - t) + zb[:, None] * t).reshape(-1, vae.z_dim)  # (pairs*steps, z_dim)
    y = None if ya is None else ya.repeat_interleave(steps)
    return save_image_grid(vae.decode(z, y), path, nrow=steps,
                           title="VAE interpolations: each row decodes a line between two digits' codes")


def _latent_samples(model, vae, train_codes: torch.Tensor, n: int, gen: torch.Generator):
    """Latents to decode: the VAE's prior N(0, I); the AE has no prior, so points drawn uniformly from the
    box its training codes occupy (the region a user would pick latents from)."""
    if model is vae:
        return torch.randn(n, vae.z_dim, generator=gen), "z ~ N(0, I), the prior"
    lo, hi = train_codes.quantile(0.005, 0), train_codes.quantile(0.995, 0)
    return lo + (hi - lo) * torch.rand(n, len(lo), generator=gen), "z uniform over the box of its codes"


@torch.no_grad()
def ae_vs_vae_figure(vae, ae, x: torch.Tensor, labels: torch.Tensor, train_x: torch.Tensor,
                     path: str | os.PathLike, n: int = 64, seed: int = 0) -> Path:
    """The lesson of the AE-vs-VAE comparison in one figure.

    Top: the codes of test digits (coloured by class) with the latents that are decoded below (black
    crosses): the AE's codes sit in clusters with empty space between them, the VAE's KL term packs them
    densely around the origin. Bottom: the decoded images. The AE has no prior, so its latents are drawn
    uniformly from the box its training codes occupy: many fall between the clusters and decode to blends
    or garbage, those inside a cluster to near copies of training digits. Each panel gives the share of
    latents far from every code (further than the 99th percentile of the codes' own nearest-neighbour
    distances) and the mean distance of the images to the nearest training image, with that of real test
    digits as the reference. The effect needs room: in a 2-D latent space the AE's clusters touch, in 16
    dimensions (the demo's setting) the space between them is most of the box.
    """
    gen = torch.Generator().manual_seed(seed)
    train_flat = train_x.cpu().flatten(1)
    ref = float(torch.cdist(x.cpu().flatten(1)[:n], train_flat).min(1).values.mean())
    fig, axes = plt.subplots(2, 2, figsize=(11, 11.5))
    for col, (model, name) in enumerate([(ae, "autoencoder"), (vae, "VAE")]):
        codes = codes_of(model, x, labels).cpu()
        train_codes = codes_of(model, train_x).cpu()
        z, how = _latent_samples(model, vae, train_codes, n, gen)
        basis = pca_basis(codes)
        ax = axes[0, col]
        sc = _scatter(ax, codes, labels.cpu(), basis, f"{name}: codes of test digits (colour: digit)")
        pts = (z @ basis).numpy()
        ax.scatter(pts[:, 0], pts[:, 1], marker="x", c="black", s=22, label=f"decoded below: {how}")
        digits = [f"digit {int(c)}" for c in torch.unique(labels.cpu())]
        ax.legend(handles=[*sc.legend_elements()[0], ax.collections[-1]], labels=[*digits, "sampled latents"],
                  fontsize=7, loc="best", ncol=2, markerscale=1.5, framealpha=0.6)
        far = _share_far(z, train_codes)
        imgs = model.decode(z.to(train_x.device)).cpu()
        near = float(torch.cdist(imgs.flatten(1), train_flat).min(1).values.mean())
        show_images(imgs, ax=axes[1, col], nrow=8, title=f"{name} samples, {how}\n"
                    f"{far:.0%} of these latents lie between the clusters of codes\n"
                    f"mean L2 distance to the nearest training image {near:.2f}\n"
                    f"(real test digits: {ref:.2f})")
        axes[1, col].title.set_fontsize(10)
    fig.subplots_adjust(hspace=0.45)  # room for the sample panels' titles below the scatter's axis labels
    fig.suptitle("autoencoder vs VAE: a latent space without a prior cannot be sampled", fontsize=13)
    return save_figure(fig, path)


def _share_far(z: torch.Tensor, codes: torch.Tensor) -> float:
    """Share of ``z`` further from every code than 99 % of the codes are from their nearest neighbour."""
    d = torch.cdist(codes, codes)
    d.fill_diagonal_(float("inf"))
    radius = torch.quantile(d.min(1).values, 0.99)
    return float((torch.cdist(z, codes).min(1).values > radius).float().mean())


def training_figures(vae, run, cfg, train, test, ctx) -> dict[str, Path]:
    """Every figure of a training run into ``run.figures``; trains the autoencoder for the comparison."""
    from probgen.plot import save_curves

    vae.eval()
    x, y = test.images[:2000].to(ctx.device), test.labels[:2000].to(ctx.device)
    codes = codes_of(vae, x, y).cpu()
    figs = {
        "samples": samples_figure(vae, run.figure("samples.png")),
        "reconstructions": reconstructions_figure(vae, x, y, run.figure("reconstructions.png")),
        "latent": latent_figure(vae, x, y, run.figure("latent.png")),
        "manifold": manifold_figure(vae, run.figure("manifold.png"), basis=pca_basis(codes)),
        "interpolations": interpolation_figure(vae, x, y, run.figure("interpolations.png")),
    }
    rows = run.read_metrics()
    if rows:
        figs["curves"] = save_curves(rows, run.figure("elbo.png"), x="epoch",
                                     keys=["train_elbo", "test_elbo"],
                                     title="ELBO per image (nats)", ylabel="ELBO")
    ae_epochs = cfg.epochs if cfg.ae_epochs is None else cfg.ae_epochs
    if ae_epochs and not vae.num_classes:
        from probgen.vae.autoencoder import Autoencoder

        torch.manual_seed(cfg.seed)
        ae = Autoencoder.like(vae).to(ctx.device)
        ae.fit(make_loader(train, cfg.batch_size, seed=cfg.seed, device=ctx.device), ae_epochs, lr=cfg.lr,
               quiet=None)
        ae.eval()
        figs["ae_vs_vae"] = ae_vs_vae_figure(vae, ae, x, y, train.images[:4000].to(ctx.device),
                                             run.figure("ae_vs_vae.png"))
    vae.train()
    return figs

