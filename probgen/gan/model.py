"""The GAN as a Pyro implicit model.

A GAN defines p(x) only implicitly: z ~ N(0, I), x = G(z) deterministically, so it has no tractable
density but can be sampled. As a Pyro program::

    def model(n, y=None):
        with pyro.plate("data", n):
            z = pyro.sample("z", Normal(0, 1).expand([n, latent_dim]).to_event(1))
            y = pyro.sample("y", Categorical(uniform))   # conditional models, when y is not given
            return pyro.deterministic("x", (G(z, y) + 1) / 2, event_dim=3)

so ``Predictive``, ``poutine.trace`` and ``poutine.condition`` (fix z) work on it as on the VAE's model.
"""

from __future__ import annotations

import copy
import os

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from probgen.checkpoint import expect_kind, load_checkpoint, load_weights, rebuilding
from probgen.checks import check_int, check_num_classes
from probgen.checks_torch import check_labels, check_latents
from probgen.gan.registry import get_model
from probgen.training.loop import eval_mode

KIND = "probgen.gan.GAN"  # the "kind" entry of GAN checkpoints


class GAN(nn.Module):
    """A generator G, a discriminator D and optionally an EMA copy of G.

    Build one with :meth:`GAN.build` (from registry names) or from modules. ``spec`` records how it was
    built so that :meth:`from_state` can rebuild it from a checkpoint.

    Attributes:
        latent_dim, num_classes, image_shape: the size of z, the number of classes (None: unconditional)
            and the (C, H, W) of the samples, as the generator has them.
        generator: z (B, latent_dim) (+ labels y (B,) when conditional) -> images (B, C, H, W)
            in [-1, 1].
        discriminator: images (B, C, H, W) in [-1, 1] (+ labels y (B,) when conditional) -> logits (B,)
            or (B, 1, h, w).
        generator_ema: an exponential moving average of ``generator`` (or None); used for sampling.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, *, ema: bool = False,
                 spec: dict | None = None) -> None:
        super().__init__()
        for name in ("latent_dim", "channels", "image_size", "num_classes"):
            if not hasattr(generator, name):
                raise TypeError(f"the generator must define `{name}` (probgen's architectures do)")
        if (discriminator.channels, discriminator.image_size) != (generator.channels, generator.image_size):
            raise ValueError(
                f"the discriminator takes ({discriminator.channels}, {discriminator.image_size}, "
                f"{discriminator.image_size}) images but the generator makes ({generator.channels}, "
                f"{generator.image_size}, {generator.image_size}); build both for the same shape"
            )
        if discriminator.num_classes != generator.num_classes:
            raise ValueError(f"the generator has num_classes={generator.num_classes} but the discriminator "
                             f"{discriminator.num_classes}; build both with the same label count")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim: int = generator.latent_dim  # size of z
        self.num_classes: int | None = generator.num_classes  # None: unconditional
        self.image_shape = (generator.channels, generator.image_size, generator.image_size)  # (C, H, W)
        self.generator_ema = copy.deepcopy(generator).requires_grad_(False).eval() if ema else None
        self.spec = spec

    @classmethod
    def build(cls, arch: str = "dcgan", disc: str = "dcgan", *, channels: int = 1, image_size: int = 28,
              latent_dim: int = 100, num_classes: int | None = None, g_cfg: dict | None = None,
              d_cfg: dict | None = None, ema: bool = False) -> GAN:
        """Build from registry names; ``g_cfg``/``d_cfg`` pass further keywords (e.g. ``ngf``).
        ``num_classes``: None for an unconditional GAN, else the number of classes."""
        num_classes = check_num_classes(num_classes)
        shared = {"channels": channels, "image_size": image_size, "num_classes": num_classes}
        g_cfg, d_cfg = dict(g_cfg or {}), dict(d_cfg or {})
        for role, extra in (("generator", g_cfg), ("discriminator", d_cfg)):
            clash = {k: v for k, v in extra.items() if k in shared or k == "latent_dim"}
            if clash:
                raise ValueError(f"{role} options {clash} are set from the data and model; pass them as "
                                 "`channels`, `image_size`, `num_classes` or `latent_dim` instead")
        generator = get_model(arch, "generator", latent_dim=latent_dim, **shared, **g_cfg)
        discriminator = get_model(disc, "discriminator", **shared, **d_cfg)
        spec = {"arch": arch, "disc": disc, "latent_dim": latent_dim, "g_cfg": g_cfg, "d_cfg": d_cfg,
                "ema": ema, **shared}
        return cls(generator, discriminator, ema=ema, spec=spec)

    @classmethod
    def from_state(cls, state: dict, *, source: str = "this checkpoint") -> GAN:
        """Rebuild from a checkpoint dict (as saved by the trainer) and load its weights.

        Raises:
            CheckpointError: the state is of another kind, lacks an entry, or its weights do not fit the
                GAN its spec describes (``source`` names it in the message).
        """
        expect_kind(state, KIND, source)
        with rebuilding(source, "a GAN"):
            spec = upgrade_spec(state["spec"])
            gan = cls.build(spec.pop("arch"), spec.pop("disc"), **spec)
            load_weights(gan, state["gan"], source)
        return gan

    @classmethod
    def load(cls, path: str | os.PathLike, map_location="cpu") -> GAN:
        """The GAN of a training checkpoint file (``checkpoints/last.pt`` or ``best.pt`` of a run).

        Raises:
            CheckpointError: naming the file and what is wrong (see ``probgen.checkpoint``).
        """
        return cls.from_state(load_checkpoint(path, map_location=map_location), source=repr(str(path)))

    # ------------------------------------------------------------------------------------------ properties

    @property
    def sampler(self) -> nn.Module:
        """The network used to draw samples: the EMA generator when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    # ---------------------------------------------------------------------------------------- Pyro model

    def model(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """Pyro program: z ~ N(0, I) (site "z", (n, latent_dim)), [y ~ uniform (site "y")], and
        x = (G(z, y) + 1) / 2 (deterministic site "x", (n, C, H, W) in [0, 1]); returns x."""
        check_int("n", n, 1)
        device = next(self.generator.parameters()).device
        if y is not None or not self.num_classes:  # a conditional model samples y when it is not given
            y = check_labels(y, self.num_classes, n, who="this GAN")
            y = y.to(device) if y is not None else None
        with pyro.plate("data", n):
            loc = torch.zeros(n, self.latent_dim, device=device)
            z = pyro.sample("z", dist.Normal(loc, torch.ones_like(loc)).to_event(1))  # (n, latent_dim)
            if self.num_classes and y is None:
                probs = torch.full((self.num_classes,), 1.0 / self.num_classes, device=device)
                y = pyro.sample("y", dist.Categorical(probs))  # (n,)
            with eval_mode(self.sampler) as g:
                x = (g(z, y) + 1) / 2  # (n, C, H, W)
            return pyro.deterministic("x", x, event_dim=3)

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | None = None, *, z: torch.Tensor | None = None,
               batch_size: int = 500) -> torch.Tensor:
        """Draw n images (n, C, H, W) in [0, 1], with labels ``y`` (n,) for a conditional GAN (uniform
        labels when None) and latent codes ``z`` (n, latent_dim) when given. Runs in batches.

        ``z`` must be floating point; a lower precision than the generator's is converted, a higher one
        (float64 on a float32 GAN) refused (``probgen.checks_torch.as_model_dtype``)."""
        check_int("n", n, 1)
        check_int("batch_size", batch_size, 1)
        g = self.sampler
        param = next(g.parameters())
        if self.num_classes and y is None:
            y = torch.randint(self.num_classes, (n,), device=param.device)
        y = check_labels(y, self.num_classes, n, who="this GAN")
        if z is None:
            z = torch.randn(n, self.latent_dim, device=param.device, dtype=param.dtype)
        z = check_latents(z, self.latent_dim, dtype=param.dtype, batch=n, who="this GAN").to(param.device)
        y = y.to(param.device) if y is not None else None
        out = []
        with eval_mode(g):
            for i in range(0, n, batch_size):
                yb = y[i : i + batch_size] if y is not None else None
                out.append((g(z[i : i + batch_size], yb).float() + 1) / 2)  # (b, C, H, W)
        return torch.cat(out).clamp_(0, 1)

    def extra_repr(self) -> str:
        s = self.spec or {}
        return (f"arch={s.get('arch', '?')!r}, disc={s.get('disc', '?')!r}, latent_dim={self.latent_dim}, "
                f"image_shape={self.image_shape}, num_classes={self.num_classes}, "
                f"ema={self.generator_ema is not None}")


def upgrade_spec(spec: dict) -> dict:
    """A checkpoint's ``spec`` in today's terms: checkpoints written before probgen used None for
    unconditional models store ``num_classes=0``."""
    spec = dict(spec)
    if spec.get("num_classes") == 0:
        spec["num_classes"] = None
    return spec
