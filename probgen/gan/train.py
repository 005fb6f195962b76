"""Training a GAN: Algorithm 1 of Goodfellow et al. (arXiv 1406.2661), one mini-batch step at a time.

Each training step is ``d_steps`` (k) discriminator updates with G held fixed (fakes drawn under
``no_grad``), then one generator update with D held fixed (D's parameters stop requiring grad), each an Adam
step on a fresh mini-batch and fresh noise. Options: an EMA of G's weights (sampling uses it), the R1
penalty on real data, DiffAugment on both players' inputs, bf16 autocast and channels-last on CUDA,
``torch.compile``, and data parallelism over ``torchrun`` processes via ``probgen.distributed``.

Gradients are averaged across processes with ``DistContext.average_gradients`` rather than by
wrapping the nets in DistributedDataParallel: DDP cannot differentiate twice (R1 and WGAN-GP need
``create_graph=True``) and expects every parameter that required grad at wrapping time to get a gradient
in every backward, which the alternating updates break. Initial weights are broadcast from rank 0, every
rank draws its own noise, and each rank then applies identical averaged updates.

The loop around these steps (logging, checkpoints, NaN rollback, best-by-FID) is ``probgen.gan.loop``;
the configuration, ``GANConfig``, is in ``probgen.gan.config``.
"""

from __future__ import annotations

import contextlib

import torch

from probgen.checkpoint import load_weights
from probgen.distributed import DistContext, setup_distributed
from probgen.gan.config import GANConfig
from probgen.gan.diffaugment import diff_augment
from probgen.gan.losses import GANLoss, gradient_penalty, r1_penalty
from probgen.gan.model import GAN
from probgen.training.loop import EMA

__all__ = ["GANConfig", "GANStepper", "build_gan"]


def build_gan(config: GANConfig, channels: int, image_size: int, num_classes: int | None) -> GAN:
    """The GAN that ``config`` describes, for images (channels, image_size, image_size); ``num_classes``
    (the data's) is used when ``config.conditional``."""
    return GAN.build(config.arch, config.disc, channels=channels, image_size=image_size,
                     latent_dim=config.latent_dim, num_classes=num_classes if config.conditional else None,
                     g_cfg=config.g_cfg, d_cfg=config.d_cfg, ema=config.ema > 0)


class GANStepper:
    """The optimisers and the two update steps for a ``GAN`` (no loop, no files).

    Args:
        gan: the networks (moved to ``ctx.device``).
        config: learning rates, loss, k, options.
        ctx: the (possibly single-process) distributed context.
    """

    def __init__(self, gan: GAN, config: GANConfig, ctx: DistContext | None = None) -> None:
        self.config = config
        self.ctx = ctx or setup_distributed(config.device)
        dev = self.ctx.device
        self.cuda = dev.type == "cuda"
        self.memory_format = torch.channels_last if self.cuda and config.channels_last else None
        self.gan = gan.to(dev, memory_format=self.memory_format) if self.memory_format else gan.to(dev)
        self.ctx.broadcast_module(self.gan)  # identical start on every rank
        self.G, self.D = gan.generator, gan.discriminator
        self.loss = GANLoss(config.loss, gp_weight=config.gp_weight)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=config.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=config.betas)
        self.G_fwd, self.D_fwd = self.G, self.D
        if config.compile:
            self.G_fwd = torch.compile(self.G)
            if not (self.loss.needs_penalty or config.r1 > 0):  # compiled graphs cannot differentiate twice
                self.D_fwd = torch.compile(self.D)
        self._d_params = list(self.D.parameters())
        self.ema = EMA(gan.generator_ema, self.G, config.ema) if gan.generator_ema is not None else None

    # ---------------------------------------------------------------------------------------------- pieces

    def autocast(self):
        """bf16 autocast on CUDA when ``amp``; a no-op context on the CPU."""
        if self.cuda and self.config.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Data images in [0, 1] -> the nets' range [-1, 1], in the nets' memory format: (B, C, H, W)."""
        x = x * 2 - 1
        return x.contiguous(memory_format=self.memory_format) if self.memory_format else x

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fresh z (n, latent_dim) and, for a conditional GAN, uniform labels (n,)."""
        dev = self.ctx.device
        z = torch.randn(n, self.gan.latent_dim, device=dev)
        k = self.gan.num_classes
        return z, (torch.randint(k, (n,), device=dev) if k else None)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.config.diffaug) if self.config.diffaug else x

    # ----------------------------------------------------------------------------------------------- steps

    def d_step(self, real: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One discriminator update with G fixed. ``real`` (B, C, H, W) in [-1, 1], ``y`` (B,) or None.

        Fakes get the real batch's labels when conditional (so WGAN-GP interpolates within a class).
        Returns detached ``d_loss`` and the logits ``real``/``fake`` for logging.
        """
        z, y_fake = self.noise(len(real))
        y_fake = y if y is not None else y_fake  # conditional: fakes of the real batch's classes
        with torch.no_grad(), self.autocast():
            fake = self.G_fwd(z, y_fake)  # (B, C, H, W); G gets no gradient
        if self.config.r1 > 0:
            real = real.detach().requires_grad_(True)
        with self.autocast():
            d_real = self.D_fwd(self.augment(real), y)  # (B,) or (B, 1, h, w)
            d_fake = self.D_fwd(self.augment(fake), y_fake)
        loss = self.loss.d_loss(d_real, d_fake)
        if self.loss.needs_penalty:
            with self.autocast():
                loss = loss + gradient_penalty(self.D_fwd, real, fake.to(real.dtype), y,
                                               weight=self.config.gp_weight)
        if self.config.r1 > 0:
            loss = loss + r1_penalty(d_real, real, self.config.r1)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.ctx.average_gradients(self._d_params)
        self.opt_d.step()
        return {"d_loss": loss.detach(), "real": d_real.detach(), "fake": d_fake.detach()}

    def g_step(self, n: int) -> dict[str, torch.Tensor]:
        """One generator update on n fresh fakes with D fixed; returns the detached ``g_loss``.

        D is held fixed: its parameters stop requiring grad (no gradient is computed for them) and it runs
        in eval mode, which pauses spectral norm's power iteration; probgen's discriminators keep no
        BatchNorm running statistics, so their BatchNorm uses batch statistics in either mode.
        """
        for p in self._d_params:
            p.requires_grad_(False)
        self.D.eval()
        try:
            z, y_fake = self.noise(n)
            with self.autocast():
                d_fake = self.D_fwd(self.augment(self.G_fwd(z, y_fake)), y_fake)
            loss = self.loss.g_loss(d_fake)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.train()
            for p in self._d_params:
                p.requires_grad_(True)
        self.ctx.average_gradients(self.G.parameters())
        self.opt_g.step()
        if self.ema is not None:  # the EMA of G's weights (probgen.training.EMA, with warm-up)
            self.ema.update()
        return {"g_loss": loss.detach()}

    def step(self, batches) -> dict[str, torch.Tensor]:
        """One step of Algorithm 1: ``d_steps`` D updates on batches drawn from the iterator ``batches``
        (yielding (x in [0, 1], y)), then one G update. Returns the last D step's stats and the G loss."""
        for _ in range(self.config.d_steps):
            x, y = next(batches)
            out = self.d_step(self.prepare(x), y if self.gan.num_classes else None)
        out.update(self.g_step(len(x)))
        return out

    # ----------------------------------------------------------------------------------------------- state

    def state_dict(self) -> dict:
        return {"gan": self.gan.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "ema_updates": self.ema.updates if self.ema else 0}

    def load_state_dict(self, state: dict) -> None:
        load_weights(self.gan, state["gan"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None:
            self.ema.load_state_dict({"updates": state.get("ema_updates", 0)})

