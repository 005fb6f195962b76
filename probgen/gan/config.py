"""``GANConfig``: everything a GAN training run needs, checked when it is built (imports no torch).

The names of the built-in architectures, losses and DiffAugment policies live here too, so that
``probgen train gan --help`` can list them without importing torch; tests check them against the registry
(``probgen.gan.list_models``), ``probgen.gan.losses`` and ``probgen.gan.diffaugment``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from probgen.checks import (
    check_bool,
    check_choice,
    check_data_name,
    check_device_name,
    check_float,
    check_int,
    config_from_dict,
)

GENERATORS = ("dcgan", "transformer")  # built in; probgen.gan.register_model adds more
DISCRIMINATORS = ("dcgan", "patchgan", "vit")
LOSSES = ("minimax", "non-saturating", "hinge", "wgan-gp")
DIFFAUG_POLICIES = ("color", "translation", "cutout")


def check_policy(policy: str) -> str:
    """Validate a comma-separated DiffAugment policy ("" for none); returns it."""
    if not isinstance(policy, str):
        raise TypeError(f"`diffaug` must be a string such as 'color,translation,cutout', got {policy!r}")
    unknown = [p for p in policy.split(",") if p and p not in DIFFAUG_POLICIES]
    if unknown:
        raise ValueError(f"`diffaug`={policy!r} names unknown augmentations {unknown}; "
                         f"known: {list(DIFFAUG_POLICIES)}")
    return policy


def check_architecture(role: str, name: str) -> str:
    """A built-in architecture name, or one registered with ``probgen.gan.register_model`` (only then is
    the registry, and with it torch, imported)."""
    if name in (GENERATORS if role == "generator" else DISCRIMINATORS):
        return name
    from probgen.gan.registry import list_models

    if not isinstance(name, str) or name not in list_models(role):
        field = "arch" if role == "generator" else "disc"
        raise ValueError(f"Unknown {role} {name!r} (`{field}`); known {role}s: {list_models(role)}")
    return name


@dataclass
class GANConfig:
    """Everything a GAN training run needs; unknown keys raise in ``from_dict``, and every field is checked
    when the config is built (ints and finite numbers in their ranges, Adam betas in [0, 1), true booleans,
    a device name), so a bad value never reaches the trainer."""

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

    # what a resumed run may change (probgen.training.resolve_run_config): budget, cadences, runtime
    RESUMABLE: ClassVar[frozenset[str]] = frozenset(
        {"steps", "log_every", "sample_every", "ckpt_every", "eval_every", "max_rollbacks", "device",
         "compile"})

    def __post_init__(self) -> None:
        check_architecture("generator", self.arch)
        check_architecture("discriminator", self.disc)
        check_choice("loss", self.loss, LOSSES)
        for name, low in (("steps", 1), ("d_steps", 1), ("batch_size", 1), ("latent_dim", 1),
                          ("log_every", 1), ("sample_every", 1), ("ckpt_every", 1), ("eval_every", 0),
                          ("max_rollbacks", 0), ("seed", 0)):
            setattr(self, name, check_int(name, getattr(self, name), low))
        for name in ("lr_g", "lr_d"):
            setattr(self, name, check_float(name, getattr(self, name), 0.0, low_open=True))
        if not isinstance(self.betas, tuple | list) or len(self.betas) != 2:
            raise ValueError(f"`betas` must be a pair (beta1, beta2), got {self.betas!r}")
        self.betas = tuple(check_float(f"betas[{i}]", b, 0.0, 1.0, high_open=True)
                           for i, b in enumerate(self.betas))
        self.gp_weight = check_float("gp_weight", self.gp_weight, 0.0)
        self.r1 = check_float("r1", self.r1, 0.0)
        self.ema = check_float("ema", self.ema, 0.0, 1.0, high_open=True)
        check_policy(self.diffaug)
        for name in ("conditional", "amp", "channels_last", "compile"):
            setattr(self, name, check_bool(name, getattr(self, name)))
        check_device_name("device", self.device)
        check_data_name("data", self.data)
        for name in ("g_cfg", "d_cfg"):
            if not isinstance(getattr(self, name), dict):
                raise TypeError(f"`{name}` must be a dict of architecture keywords, got "
                                f"{getattr(self, name)!r}")

    @classmethod
    def from_dict(cls, values: dict) -> GANConfig:
        """``probgen.checks.config_from_dict(GANConfig, values)``: unknown keys raise, naming the closest."""
        return config_from_dict(cls, values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def validate(self) -> GANConfig:
        """Every field is checked when the config is built; this returns it (kept for older callers)."""
        return self
