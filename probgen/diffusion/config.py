"""Configuration dataclasses of a DDPM and of its training run (nanoGPT's ``GPTConfig`` habit).

Both validate their fields on construction and raise a ValueError naming an unknown key (with the closest
known one) in :meth:`from_dict`, so that a typo never passes silently.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, fields
from typing import Any

from probgen.diffusion.sampling import METHODS
from probgen.diffusion.schedule import SCHEDULES


def _check_keys(cls, values: dict[str, Any]) -> None:
    known = [f.name for f in fields(cls)]
    for k in values:
        if k not in known:
            close = difflib.get_close_matches(k, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {known}"
            raise ValueError(f"Unknown {cls.__name__} key {k!r}{hint}")


def _int_at_least(obj, minimum: int, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
            raise ValueError(f"`{name}` must be an int >= {minimum}, got {v!r}")


def _to_plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class DDPMConfig:
    """A DDPM's process and noise-prediction network (the keyword arguments of :class:`DDPM`)."""

    x_shape: tuple[int, int, int] = (1, 28, 28)  # image shape (C, H, W)
    timesteps: int = 1000  # T, diffusion steps
    schedule: str = "linear"  # beta schedule: "linear" (Ho et al.) or "cosine" (Nichol and Dhariwal)
    base_channels: int = 32  # U-Net width at full resolution
    channel_mults: tuple[int, ...] = (1, 2, 2)  # width multiplier per resolution level
    num_res_blocks: int = 1  # residual blocks per level (going down)
    attention: bool = True  # self-attention at the lowest resolution
    dropout: float = 0.0  # dropout in the residual blocks
    num_classes: int = 0  # > 0: class-conditional eps_theta(x_t, t, y)
    clip_denoised: bool = True  # clip the predicted x_0 to [-1, 1] while sampling

    def __post_init__(self) -> None:
        self.x_shape = tuple(self.x_shape)
        self.channel_mults = tuple(self.channel_mults)
        if len(self.x_shape) != 3 or not all(isinstance(s, int) and s > 0 for s in self.x_shape):
            raise ValueError(f"`x_shape` must be (C, H, W) of positive ints, got {self.x_shape!r}")
        _int_at_least(self, 2, "timesteps")
        _int_at_least(self, 1, "base_channels", "num_res_blocks")
        _int_at_least(self, 0, "num_classes")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"`schedule`={self.schedule!r} is not a beta schedule; use one of "
                             f"{list(SCHEDULES)}")
        if not self.channel_mults or not all(isinstance(m, int) and m > 0 for m in self.channel_mults):
            raise ValueError(f"`channel_mults` must be a non-empty tuple of positive ints, got "
                             f"{self.channel_mults!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must lie in [0, 1), got {self.dropout!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DDPMConfig:
        """Build from a dict; an unknown key raises a ValueError naming it."""
        _check_keys(cls, values)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists): JSON-ready and loadable with ``weights_only=True``."""
        return _to_plain(asdict(self))


@dataclass
class TrainConfig:
    """A DDPM training run (the keyword arguments of :func:`probgen.diffusion.train_ddpm`)."""

    steps: int = 5000  # optimiser steps
    batch_size: int = 64
    lr: float = 1e-3  # Adam learning rate (after warm-up)
    warmup: int = 200  # linear learning-rate warm-up steps
    grad_clip: float = 1.0  # gradient-norm clip; 0 turns it off
    ema: float = 0.999  # decay of the EMA of the weights used for sampling; 0 turns it off
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    amp: bool = False  # bf16 autocast (CPUs with AVX-512 BF16 and CUDA GPUs run it faster)
    log_every: int = 50  # metrics.csv row every this many steps
    ckpt_every: int = 500  # checkpoints/last.pt every this many steps (and at the end)
    sample_every: int = 0  # a sample grid in figures/ every this many steps; 0: only at the end
    sample_steps: int = 100  # reverse steps for those grids
    sample_method: str = "ddpm"  # their sampler: "ddpm" (ancestral, respaced) or "ddim"
    num_samples: int = 64  # images in those grids

    def __post_init__(self) -> None:
        _int_at_least(self, 1, "steps", "batch_size", "log_every", "ckpt_every", "sample_steps",
                      "num_samples")
        _int_at_least(self, 0, "warmup", "seed", "sample_every")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"`lr` must be a positive number, got {self.lr!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"`ema` (decay) must lie in [0, 1), got {self.ema!r}; 0 turns the EMA off")
        if self.sample_method not in METHODS:
            raise ValueError(f"`sample_method`={self.sample_method!r} is not a sampler; use one of "
                             f"{list(METHODS)}")
        if not self.grad_clip >= 0:
            raise ValueError(f"`grad_clip` must be >= 0, got {self.grad_clip!r}; 0 turns clipping off")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict; an unknown key raises a ValueError naming it."""
        _check_keys(cls, values)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(asdict(self))
