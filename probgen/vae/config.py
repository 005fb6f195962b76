"""``VAEConfig``: one dataclass for a VAE's networks and its training run (nanoGPT's ``GPTConfig`` habit).

Unknown keys raise (:meth:`VAEConfig.from_dict`), so a typo in a config file or a keyword never passes
silently. The model fields are exactly the arguments of :class:`probgen.vae.VAE`.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ELBOS = ("fast", "fast-meanfield", "trace", "meanfield", "jit")
BINARIZE = ("auto", "none", "threshold", "stochastic", "dynamic")


@dataclass
class VAEConfig:
    # ---- model (the arguments of VAE)
    x_shape: tuple[int, int, int] | None = None  # image shape (C, H, W); None: the data set's shape
    z_dim: int = 50  # latent dimension
    hidden: tuple[int, ...] = (400,)  # hidden layer widths (encoder order; the decoder mirrors them)
    likelihood: str = "bernoulli"  # "bernoulli" | "gaussian" | "continuous-bernoulli"
    arch: str = "mlp"  # "mlp" | "conv"
    num_classes: int | None = None  # set (e.g. 10) for a conditional VAE p(x | z, y)
    min_scale: float = 0.01  # floor on the Gaussian likelihood's learned standard deviation
    conv_channels: tuple[int, ...] = (32, 64)  # channels of the stride-2 conv layers (arch="conv")
    # ---- data
    data: str = "mnist-5k"  # a probgen.data name
    binarize: str = "auto"  # auto: "stochastic" (fixed binary copy) for bernoulli, else "none"; or "dynamic"
    # ---- training
    epochs: int = 50
    batch_size: int = 128  # per process under torchrun
    lr: float = 1e-3  # Adam learning rate
    elbo: str = "fast"  # fast | fast-meanfield (closed-form KL) | trace | meanfield | jit (train.make_elbo)
    num_particles: int = 1  # samples of z per image in the ELBO estimate
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    # ---- evaluation and figures
    iwae_samples: int = 1000  # k for the final test log-likelihood (IWAE); 0 skips it
    iwae_images: int = 1000  # test images used for it (the first n)
    figures: bool = True  # draw figures at the end
    ae_epochs: int | None = None  # autoencoder epochs for the AE-vs-VAE figure (None: `epochs`, 0: skip)
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes stored with the run

    def __post_init__(self) -> None:
        for name in ("x_shape", "hidden", "conv_channels"):
            v = getattr(self, name)
            if isinstance(v, list):
                setattr(self, name, tuple(v))
        if isinstance(self.hidden, int) and not isinstance(self.hidden, bool):
            self.hidden = (self.hidden,)
        _positive_int(self, "z_dim", "epochs", "batch_size", "num_particles")
        _nonneg_int(self, "seed", "iwae_samples", "iwae_images")
        if self.elbo not in ELBOS:
            raise ValueError(f"`elbo`={self.elbo!r} is not an ELBO; use one of {list(ELBOS)}")
        if self.binarize not in BINARIZE:
            raise ValueError(f"`binarize`={self.binarize!r} is not a mode; use one of {list(BINARIZE)}")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"`lr` must be a positive number, got {self.lr!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VAEConfig:
        """Build from a dict; an unknown key raises a ValueError naming it (and the closest known key)."""
        known = [f.name for f in fields(cls)]
        for k in d:
            if k not in known:
                close = difflib.get_close_matches(k, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {known}"
                raise ValueError(f"Unknown VAEConfig key {k!r}{hint}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`probgen.vae.VAE` (``x_shape`` must be set)."""
        if self.x_shape is None:
            raise ValueError("`x_shape` is None; set it, or let the trainer take it from the data set")
        return dict(x_shape=tuple(self.x_shape), z_dim=self.z_dim, hidden=tuple(self.hidden),
                    likelihood=self.likelihood, arch=self.arch, num_classes=self.num_classes,
                    min_scale=self.min_scale, conv_channels=tuple(self.conv_channels))

    def binarize_mode(self) -> str | None:
        """The resolved binarisation: None, "threshold", "stochastic" or "dynamic"."""
        if self.binarize == "auto":
            return "stochastic" if self.likelihood == "bernoulli" else None
        return None if self.binarize == "none" else self.binarize


def _positive_int(cfg, *names: str) -> None:
    for n in names:
        v = getattr(cfg, n)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"`{n}` must be a positive int, got {v!r}")


def _nonneg_int(cfg, *names: str) -> None:
    for n in names:
        v = getattr(cfg, n)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"`{n}` must be a non-negative int, got {v!r}")
