"""The GAN part of ``probgen demo``: a DCGAN trained briefly on mnist-5k, its samples next to real digits,
its training curves, and why the saturating minimax generator loss stalls (its gradient vanishes where
D(G(z)) is near 0, the non-saturating one's does not)."""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import torch

from probgen.data import load_dataset
from probgen.gan.config import GANConfig
from probgen.gan.evaluate import metrics_available
from probgen.gan.loop import GANTrainer
from probgen.gan.losses import LOSSES, GANLoss
from probgen.plot import save_figure, show_images
from probgen.runs import RunDir

# Full demo budget on 2 CPU cores: about a minute of training.
FULL = {"steps": 800, "batch_size": 64, "g_cfg": {"ngf": 16}, "d_cfg": {"ndf": 16}}
QUICK = {"steps": 4, "batch_size": 16, "g_cfg": {"ngf": 4}, "d_cfg": {"ndf": 4}}


def generator_gradients_figure(path) -> None:
    """|d L_G / d logit| against D(G(z)) for every generator loss (autograd through :class:`GANLoss`)."""
    logits = torch.linspace(-9, 9, 400, requires_grad=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in zip(LOSSES, ("-", "-", "--", ":")):
        (grad,) = torch.autograd.grad(GANLoss(name).g_loss(logits) * len(logits), logits)
        ax.plot(torch.sigmoid(logits).detach(), grad.abs(), style, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("D(G(z))  (D's belief that a fake is real)")
    ax.set_ylabel("|dL_G / d logit|")
    ax.set_title("generator gradient: the saturating minimax loss vanishes early on")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def _side_by_side(real: torch.Tensor, fake: torch.Tensor, path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.3))
    show_images(real, ax=axes[0], nrow=8, title="training images (mnist-5k)")
    show_images(fake, ax=axes[1], nrow=8, title="DCGAN samples")
    save_figure(fig, path)


def run_demo(run: RunDir, quick: bool) -> str:
    """Train, draw the figures into ``run.figures`` and return the Markdown section."""
    settings = QUICK if quick else FULL
    steps = settings["steps"]
    config = GANConfig(**settings, loss="non-saturating", device="cpu", log_every=max(1, steps // 40),
                       sample_every=steps, ckpt_every=steps, seed=0)
    t0 = time.perf_counter()
    trainer = GANTrainer(config, run.path / "gan", log=lambda msg: None)
    gan, sub = trainer.fit(), trainer.run
    seconds = time.perf_counter() - t0
    real = load_dataset("mnist-5k", "test").images[:64]
    fake = gan.sample(64)
    figs = {name: run.figure(f"gan_{name}.png") for name in ("side_by_side", "gradients")}
    _side_by_side(real, fake, figs["side_by_side"])
    generator_gradients_figure(figs["gradients"])
    rel = {k: p.relative_to(run.path) for k, p in figs.items()}
    curves = {k: (sub.path / "figures" / f"{k}.png").relative_to(run.path) for k in ("losses", "d_outputs")}
    last = sub.read_metrics()[-1]
    fid = ""
    if metrics_available() and not quick:
        from probgen.gan.evaluate import fid_score_fn

        fid = f" FID of 1,000 samples against the test split (domain-classifier features): " \
              f"{fid_score_fn('mnist-5k', 1000)(gan):.1f}."
    g, d = settings["g_cfg"]["ngf"], settings["d_cfg"]["ndf"]
    return (
        "## GANs\n\n"
        f"A DCGAN (generator ngf={g}: z -> four transposed convs; discriminator ndf={d}) trained with the "
        f"non-saturating loss for {config.steps} steps of batch {config.batch_size} on mnist-5k "
        f"({seconds:.0f} s). At the end D(x) = {float(last['d_real']):.2f}, D(G(z)) = "
        f"{float(last['d_fake']):.2f}, D's accuracy {float(last['d_acc']):.2f}.{fid}\n\n"
        f"![real vs generated]({rel['side_by_side']})\n\n"
        f"![losses]({curves['losses']}) ![D outputs]({curves['d_outputs']})\n\n"
        "The lecture's minimax objective has G minimise log(1 - D(G(z))); its gradient vanishes where D "
        "rejects the fakes, which is where training starts. The non-saturating loss -log D(G(z)) (which "
        "common code calls \"minimax\") keeps a gradient of about 1 there:\n\n"
        f"![generator gradients]({rel['gradients']})\n"
    )
