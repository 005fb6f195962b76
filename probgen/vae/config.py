"""``VAEConfig``: one dataclass for a VAE's networks and its training run (nanoGPT's ``GPTConfig`` habit).

Every field is checked when the config is built, and unknown keys raise
(``probgen.checks.config_from_dict``, also as ``VAEConfig.from_dict``), so a typo in a config file or a
keyword never passes silently. The model fields are exactly the arguments of ``probgen.vae.VAE``.
This module imports no torch: ``probgen train vae --help`` reads it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from probgen import checks

ELBOS = ("fast", "fast-meanfield", "trace", "meanfield", "jit")
BINARIZE = ("auto", "none", "threshold", "stochastic", "dynamic")
LIKELIHOODS = ("bernoulli", "gaussian", "continuous-bernoulli")  # built in (probgen.vae.list_likelihoods)
ARCHS = ("mlp", "conv")  # built in; probgen.vae.register_arch adds more (probgen.vae.list_archs)


@dataclass
class VAEConfig:
    # ---- model (the arguments of VAE)
    x_shape: tuple[int, int, int] | None = None  # image shape (C, H, W); None: the data set's shape
    z_dim: int = 50  # latent dimension
    hidden: tuple[int, ...] = (400,)  # hidden layer widths (encoder order; the decoder mirrors them)
    likelihood: str = "bernoulli"  # "bernoulli" | "gaussian" | "continuous-bernoulli"
    arch: str = "mlp"  # "mlp" | "conv"
    num_classes: int | None = None  # set (e.g. 10) for a conditional VAE p(x | z, y); None: unconditional
    min_scale: float = 0.01  # floor on the Gaussian likelihood's learned standard deviation
    conv_channels: tuple[int, ...] = (32, 64)  # channels of the stride-2 conv layers (arch="conv")
    # ---- data
    data: str = "mnist-5k"  # a probgen.data name
    binarize: str = "auto"  # auto: "stochastic" (fixed binary copy) for bernoulli, else "none"; or "dynamic"
    # ---- training
    epochs: int = 50  # passes over the training set
    batch_size: int = 128  # per process under torchrun
    lr: float = 1e-3  # Adam learning rate
    elbo: str = "fast"  # fast | fast-meanfield (closed-form KL) | trace | meanfield | jit (train.make_elbo)
    num_particles: int = 1  # samples of z per image in the ELBO estimate
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    # ---- evaluation and figures
    iwae_samples: int = 1000  # k for the final test log-likelihood (IWAE); 0 skips it
    iwae_images: int = 1000  # test images used for it (a seeded random sample)
    ckpt_every: int = 0  # also write checkpoints/last.pt every this many SVI steps (0: at epoch ends only)
    figures: bool = True  # draw figures at the end
    ae_epochs: int | None = None  # autoencoder epochs for the AE-vs-VAE figure (None: `epochs`, 0: skip)
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes stored with the run

    # what a resumed run may change (probgen.training.resolve_run_config): budget, evaluation, device
    RESUMABLE: ClassVar[frozenset[str]] = frozenset(
        {"epochs", "ckpt_every", "iwae_samples", "iwae_images", "figures", "ae_epochs", "device", "extra"})

    def __post_init__(self) -> None:
        if self.x_shape is not None:
            self.x_shape = check_x_shape(self.x_shape)
        self.hidden = check_hidden(self.hidden)
        self.conv_channels = checks.check_ints("conv_channels", self.conv_channels, 1)
        for name, low in (("z_dim", 1), ("epochs", 1), ("batch_size", 1), ("num_particles", 1), ("seed", 0),
                          ("iwae_samples", 0), ("iwae_images", 0), ("ckpt_every", 0)):
            setattr(self, name, checks.check_int(name, getattr(self, name), low))
        if self.ae_epochs is not None:
            self.ae_epochs = checks.check_int("ae_epochs", self.ae_epochs, 0)
        self.num_classes = checks.check_num_classes(self.num_classes)
        self.lr = checks.check_float("lr", self.lr, 0.0, low_open=True)
        self.min_scale = checks.check_float("min_scale", self.min_scale, 0.0, low_open=True)
        self.figures = checks.check_bool("figures", self.figures)
        checks.check_device_name("device", self.device)
        checks.check_data_name("data", self.data)
        if not isinstance(self.extra, dict):
            raise checks.ArgumentTypeError(f"`extra` must be a dict of notes, got "
                                           f"{type(self.extra).__name__}")
        checks.check_choice("elbo", self.elbo, ELBOS)
        checks.check_choice("binarize", self.binarize, BINARIZE)
        if self.likelihood not in LIKELIHOODS:
            from probgen.vae.likelihoods import list_likelihoods

            checks.check_choice("likelihood", self.likelihood, list_likelihoods())
        if self.arch not in ARCHS:
            from probgen.vae.nets import list_archs

            checks.check_choice("arch", self.arch, list_archs())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VAEConfig:
        """``probgen.checks.config_from_dict(VAEConfig, d)``: unknown keys raise, naming the closest one."""
        return checks.config_from_dict(cls, d)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``probgen.vae.VAE`` (``x_shape`` must be set)."""
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


def check_x_shape(x_shape) -> tuple[int, int, int]:
    """An image shape (C, H, W) of positive ints, e.g. (1, 28, 28)."""
    return checks.check_ints("x_shape", x_shape, 1, length=3)


def check_hidden(hidden) -> tuple[int, ...]:
    """Hidden layer widths: an int or a tuple of positive ints (``()``: linear networks)."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    return checks.check_ints("hidden", hidden, 1, empty_ok=True)
