"""Training every model of ``probgen compare`` under one budget (steps or wall seconds per model).

Each trainer is one ``step()`` function: a minibatch update of every network of the model, returning the
quantities it optimised. :func:`fit` runs it until the budget is spent and keeps the curves; the GANs also
record the L2 norm of the generator's gradient at each of their first :data:`GRAD_STEPS` steps, the curve
that shows why the saturating minimax loss stalls early in training.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from probgen.compare.nets import DDPMSampler, MatchedGAN, build_vae, one_hot
from probgen.gan.losses import GANLoss
from probgen.progress import progress
from probgen.seeding import derive_seed, seed

GRAD_STEPS = 300  # generator gradient norms are kept for the first this many steps
LOG_POINTS = 100  # about this many points per training curve (step budgets)


@dataclass
class Trained:
    """One trained model: the sampler to score, its curves and what its budget bought."""

    name: str
    model: object  # has sample(n[, y])
    objective: str  # what the curves show
    steps: int = 0
    seconds: float = 0.0
    curves: dict[str, list[float]] = field(default_factory=dict)  # "step" and one list per quantity
    grad_norms: list[float] = field(default_factory=list)  # generator gradient L2 norm per early step


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, gen: torch.Generator
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled minibatches ((B, C, H, W), (B,)), a fresh seeded permutation per epoch."""
    while True:
        order = torch.randperm(len(images), generator=gen)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            yield images[idx], labels[idx]


def fit(trained: Trained, step: Callable[[], dict[str, float]], budget: tuple[str, float],
        show: bool) -> Trained:
    """Call ``step`` until the budget ("steps", N) or ("seconds", S) is spent; log the averaged
    quantities about :data:`LOG_POINTS` times (every 25 steps under a time budget)."""
    unit, value = budget
    every = max(1, int(value) // LOG_POINTS) if unit == "steps" else 25
    sums: dict[str, float] = {}
    bar = progress(total=int(value) if unit == "steps" else None,
                   desc=f"{trained.name} ({trained.objective})", quiet=not show)
    t0 = time.perf_counter()
    while (trained.steps < value) if unit == "steps" else (time.perf_counter() - t0 < value):
        for k, v in step().items():
            sums[k] = sums.get(k, 0.0) + v
        trained.steps += 1
        bar.update(1)
        if trained.steps % every == 0:
            trained.curves.setdefault("step", []).append(trained.steps)
            for k, v in sums.items():
                trained.curves.setdefault(k, []).append(v / every)
            bar.set_postfix({k: f"{v / every:.3g}" for k, v in sums.items()})
            sums = {}
    bar.close()
    trained.seconds = time.perf_counter() - t0
    return trained


def train_vae(name: str, data, num_classes, budget, cfg, index: int, show: bool) -> Trained:
    """A Bernoulli VAE by the ELBO (the Trace_ELBO estimator, one particle; Adam lr 1e-3) on dynamically
    binarised images: each step redraws every pixel as Bernoulli(grey level)."""
    seed(derive_seed(cfg.seed, step=index))
    vae = build_vae(tuple(data.images.shape[1:]), num_classes).to(cfg.device)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    stream = batches(data.images, data.labels, cfg.batch_size,
                     torch.Generator().manual_seed(cfg.seed + index))

    def step() -> dict[str, float]:
        x, y = next(stream)
        x = torch.bernoulli(x).to(cfg.device)  # (B, C, H, W) in {0, 1}
        loss = -vae.elbo_terms(x, one_hot(y.to(cfg.device), num_classes), reduce=True) / len(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"-ELBO (nats/image)": loss.item()}

    trained = fit(Trained(name, vae, "ELBO"), step, budget, show)
    vae.eval()
    return trained


def train_gan(name: str, data, num_classes, budget, cfg, index: int, show: bool, loss: str) -> Trained:
    """The matched GAN with ``loss`` ("non-saturating" or "minimax", the saturating one): each step one
    discriminator and one generator Adam update (lr 2e-4, betas (0.5, 0.999)) on grey-level images."""
    seed(derive_seed(cfg.seed, step=index))
    gan = MatchedGAN(tuple(data.images.shape[1:]), num_classes).to(cfg.device)
    g, d, objective = gan.generator, gan.discriminator, GANLoss(loss)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    stream = batches(data.images, data.labels, cfg.batch_size,
                     torch.Generator().manual_seed(cfg.seed + index))
    trained = Trained(name, gan, f"{loss} GAN loss")

    def step() -> dict[str, float]:
        x, y = next(stream)
        x, y1h = x.to(cfg.device), one_hot(y.to(cfg.device), num_classes)
        fake = g(torch.randn(len(x), gan.z_dim, device=cfg.device), y1h)  # (B, C, H, W)
        d_loss = objective.d_loss(d(x, y1h), d(fake.detach(), y1h))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = objective.g_loss(d(fake, y1h))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        if len(trained.grad_norms) < GRAD_STEPS:
            grads = [p.grad.flatten() for p in g.parameters() if p.grad is not None]
            trained.grad_norms.append(float(torch.cat(grads).norm()))
        opt_g.step()
        return {"D loss": d_loss.item(), "G loss": g_loss.item()}

    fit(trained, step, budget, show)
    gan.eval()
    return trained


def train_ddpm(name: str, data, budget, cfg, index: int, show: bool, sample_steps: int) -> Trained:
    """probgen's DDPM (a small U-Net: 16 base channels, levels (1, 2), no attention; T = 1000, linear
    schedule), Ho et al.'s simple loss, Adam lr 1e-3; sampled with ``sample_steps`` respaced steps."""
    from probgen.diffusion import DDPM

    seed(derive_seed(cfg.seed, step=index))
    ddpm = DDPM(x_shape=tuple(data.images.shape[1:]), base_channels=16, channel_mults=(1, 2),
                attention=False).to(cfg.device)
    opt = torch.optim.Adam(ddpm.parameters(), lr=1e-3)
    stream = batches(data.images, data.labels, cfg.batch_size,
                     torch.Generator().manual_seed(cfg.seed + index))

    def step() -> dict[str, float]:
        x, _ = next(stream)
        loss = ddpm.loss(x.to(cfg.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"noise MSE": loss.item()}

    trained = fit(Trained(name, DDPMSampler(ddpm, sample_steps), "denoising loss"), step, budget, show)
    ddpm.eval()
    return trained
