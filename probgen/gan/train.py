"""Training a GAN: Algorithm 1 of Goodfellow et al. (arXiv 1406.2661), one mini-batch step at a time.

Each training step is ``d_steps`` (k) discriminator updates with G held fixed (fakes drawn under
``no_grad``), then one generator update with D held fixed (D's parameters stop requiring grad), each an Adam
step on a fresh mini-batch and fresh noise. Options: an EMA of G's weights (sampling uses it), the R1
penalty on real data, DiffAugment on both players' inputs, bf16 autocast and channels-last on CUDA,
``torch.compile``, and data parallelism over ``torchrun`` processes via :mod:`probgen.distributed`.

Gradients are averaged across processes with :meth:`DistContext.average_gradients` rather than by
wrapping the nets in DistributedDataParallel: DDP cannot differentiate twice (R1 and WGAN-GP need
``create_graph=True``) and expects every parameter that required grad at wrapping time to get a gradient
in every backward, which the alternating updates break. Initial weights are broadcast from rank 0, every
rank draws its own noise, and each rank then applies identical averaged updates.

The loop around these steps (logging, checkpoints, NaN rollback, best-by-FID) is :mod:`probgen.gan.loop`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import torch

from probgen.distributed import DistContext, setup_distributed
from probgen.gan.diffaugment import check_policy, diff_augment
from probgen.gan.losses import LOSSES, GANLoss, gradient_penalty, r1_penalty
from probgen.gan.model import GAN
from probgen.gan.registry import list_models


@dataclass
class GANConfig:
    """Everything a GAN training run needs; unknown keys raise in :meth:`from_dict`."""

    arch: str = "dcgan"  # generator architecture: list_models("generator")
    disc: str = "dcgan"  # discriminator architecture: list_models("discriminator")
    loss: str = "non-saturating"  # "minimax" (saturating, as written), "non-saturating", "hinge", "wgan-gp"
    data: str = "mnist-5k"  # a probgen.data name
    conditional: bool = False  # class-conditional G and D (label embedding appended to both inputs)
    latent_dim: int = 100  # size of z
    g_cfg: dict = field(default_factory=dict)  # extra generator keywords, e.g. {"ngf": 32}
    d_cfg: dict = field(default_factory=dict)  # extra discriminator keywords, e.g. {"n_layers": 2}
    steps: int = 1000  # training steps; each is d_steps D updates then one G update
    d_steps: int = 1  # k of Algorithm 1
    batch_size: int = 64  # images per D update, per process
    lr_g: float = 2e-4  # Adam learning rates and betas (DCGAN's 2e-4, (0.5, 0.999))
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    gp_weight: float = 10.0  # WGAN-GP lambda
    r1: float = 0.0  # R1 gamma on real data; 0 turns it off
    ema: float = 0.0  # EMA decay of G's weights (e.g. 0.999); 0 turns it off
    diffaug: str = ""  # DiffAugment policy, e.g. "color,translation,cutout"; "" turns it off
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    amp: bool = True  # bf16 autocast on CUDA (the CPU always runs float32)
    channels_last: bool = True  # channels-last memory format on CUDA
    compile: bool = False  # torch.compile G (and D when no gradient penalty needs double backward)
    seed: int = 0
    log_every: int = 50  # metrics.csv row (and NaN check) every this many steps
    sample_every: int = 500  # fixed-z sample grid every this many steps
    ckpt_every: int = 500  # last.pt (a known-good state) every this many steps
    eval_every: int = 0  # score (e.g. FID) for the best checkpoint every this many steps; 0: off
    max_rollbacks: int = 3  # NaN/inf losses: roll back at most this many times, then stop

    @classmethod
    def from_dict(cls, values: dict) -> GANConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown GAN config keys {unknown}; known keys: {sorted(known)}")
        values = dict(values)
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def validate(self) -> GANConfig:
        """Raise a ValueError naming the first bad field."""
        if self.arch not in list_models("generator"):
            raise ValueError(f"Unknown generator {self.arch!r}; known: {list_models('generator')}")
        if self.disc not in list_models("discriminator"):
            raise ValueError(f"Unknown discriminator {self.disc!r}; known: {list_models('discriminator')}")
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}; known losses: {list(LOSSES)}")
        for name in ("steps", "d_steps", "batch_size", "latent_dim", "log_every", "sample_every",
                     "ckpt_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"`{name}` must be a positive int, got {v!r}")
        for name in ("eval_every", "max_rollbacks", "seed"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be an int >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"`ema` (decay) must lie in [0, 1), got {self.ema!r}; 0 turns EMA off")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0, got {getattr(self, name)!r}")
        if self.r1 < 0 or self.gp_weight < 0:
            raise ValueError(f"`r1` and `gp_weight` must be >= 0, got {self.r1!r} and {self.gp_weight!r}")
        check_policy(self.diffaug)
        return self


def build_gan(config: GANConfig, channels: int, image_size: int, num_classes: int) -> GAN:
    """The GAN that ``config`` describes, for images (channels, image_size, image_size)."""
    return GAN.build(config.arch, config.disc, channels=channels, image_size=image_size,
                     latent_dim=config.latent_dim, num_classes=num_classes if config.conditional else 0,
                     g_cfg=config.g_cfg, d_cfg=config.d_cfg, ema=config.ema > 0)


class GANStepper:
    """The optimisers and the two update steps for a :class:`GAN` (no loop, no files).

    Args:
        gan: the networks (moved to ``ctx.device``).
        config: learning rates, loss, k, options.
        ctx: the (possibly single-process) distributed context.
    """

    def __init__(self, gan: GAN, config: GANConfig, ctx: DistContext | None = None) -> None:
        self.config = config.validate()
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
        self.ema_updates = 0
        self._ema_pairs = None
        if gan.generator_ema is not None:
            self._ema_pairs = (list(gan.generator_ema.parameters()), list(self.G.parameters()),
                               list(gan.generator_ema.buffers()), list(self.G.buffers()))

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
        self.update_ema()
        return {"g_loss": loss.detach()}

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- d * ema + (1 - d) * G for weights, d = min(ema, (1 + n) / (10 + n)) after n updates (the
        warm-up of TensorFlow's ExponentialMovingAverage, so that early samples are not the initial
        weights); buffers (BatchNorm statistics) are copied."""
        if self._ema_pairs is None:
            return
        ema_p, g_p, ema_b, g_b = self._ema_pairs
        n = self.ema_updates
        decay = min(self.config.ema, (1 + n) / (10 + n))
        self.ema_updates += 1
        torch._foreach_lerp_(ema_p, g_p, 1.0 - decay)
        for e, g in zip(ema_b, g_b):
            e.copy_(g)

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
                "opt_d": self.opt_d.state_dict(), "ema_updates": self.ema_updates}

    def load_state_dict(self, state: dict) -> None:
        self.gan.load_state_dict(state["gan"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.ema_updates = int(state.get("ema_updates", 0))

