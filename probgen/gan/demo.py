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

# Full demo budget: see probgen.demo.SECTIONS for its measured time on 2 CPU cores.
FULL = {"steps": 800, "batch_size": 64, "g_cfg": {"ngf": 16}, "d_cfg": {"ndf": 16}}
N_EVAL = 1000  # samples (and random training images) for the FID and its reference
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


def _side_by_side(real: torch.Tensor, fake: torch.Tensor, path, scores: dict) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 5))
    show_images(real, ax=axes[0], nrow=8, title=f"training images (mnist-5k, random){scores.get('real', '')}")
    show_images(fake, ax=axes[1], nrow=8, title=f"DCGAN samples{scores.get('fake', '')}")
    fig.suptitle("real digits vs GAN samples")
    save_figure(fig, path)


def _fid(real: torch.Tensor, fake: torch.Tensor, quick: bool) -> tuple[dict, str]:
    """FID of the samples and of as many real training digits (the reference) against the test split."""
    if quick or not metrics_available():
        return {}, ""
    from probgen.metrics import SampleEvaluator

    ev = SampleEvaluator("mnist-5k", split="test", device="cpu")
    f_real, f_fake = ev.fid(real), ev.fid(fake)
    text = (f" FID of {len(fake):,} samples against the 1,000 test digits (shipped classifier's features): "
            f"{f_fake:.1f}; the reference, {len(real):,} real training digits drawn at random, scores "
            f"{f_real:.1f} (the best a model can reach at this sample size; lower is better).")
    return {"real": f"\nFID {f_real:.1f} (reference)", "fake": f"\nFID {f_fake:.1f}"}, text


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
    train = load_dataset("mnist-5k", "train").images
    real = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:N_EVAL]]
    fake = gan.sample(N_EVAL)
    scores, fid = _fid(real, fake, quick)
    figs = {name: run.figure(f"gan_{name}.png") for name in ("side_by_side", "gradients")}
    _side_by_side(real[:64], fake[:64], figs["side_by_side"], scores)
    generator_gradients_figure(figs["gradients"])
    rel = {k: p.relative_to(run.path) for k, p in figs.items()}
    curves = {k: (sub.path / "figures" / f"{k}.png").relative_to(run.path) for k in ("losses", "d_outputs")}
    last = sub.read_metrics()[-1]
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
