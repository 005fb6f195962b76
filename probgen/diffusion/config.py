"""Configuration dataclasses of a DDPM and of its training run (nanoGPT's ``GPTConfig`` habit).

Both check every field on construction and refuse unknown keys with the closest known one
(``probgen.checks.config_from_dict``, also as ``from_dict``), so that a typo never passes silently. This
module imports no torch; the names of the beta schedules and samplers live here for that reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from probgen import checks

SCHEDULES = ("linear", "cosine")  # beta schedules (probgen.diffusion.schedule)
METHODS = ("ddpm", "ddim")  # samplers (probgen.diffusion.sampling)


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class DDPMConfig:
    """A DDPM's process and noise-prediction network (the keyword arguments of ``DDPM``)."""

    x_shape: tuple[int, int, int] = (1, 28, 28)  # image shape (C, H, W)
    timesteps: int = 1000  # T, diffusion steps
    schedule: str = "linear"  # beta schedule: "linear" (Ho et al.) or "cosine" (Nichol and Dhariwal)
    base_channels: int = 32  # U-Net width at full resolution
    channel_mults: tuple[int, ...] = (1, 2, 2)  # width multiplier per resolution level
    num_res_blocks: int = 1  # residual blocks per level (going down)
    attention: bool = True  # self-attention at the lowest resolution
    dropout: float = 0.0  # dropout in the residual blocks
    num_classes: int | None = None  # K: class-conditional eps_theta(x_t, t, y); None: unconditional
    clip_denoised: bool = True  # clip the predicted x_0 to [-1, 1] while sampling

    def __post_init__(self) -> None:
        self.x_shape = checks.check_ints("x_shape", self.x_shape, 1, length=3)
        self.channel_mults = checks.check_ints("channel_mults", self.channel_mults, 1)
        self.timesteps = checks.check_int("timesteps", self.timesteps, 2)
        self.base_channels = checks.check_int("base_channels", self.base_channels, 1)
        self.num_res_blocks = checks.check_int("num_res_blocks", self.num_res_blocks, 1)
        self.num_classes = checks.check_num_classes(self.num_classes)
        checks.check_choice("schedule", self.schedule, SCHEDULES)
        self.dropout = checks.check_float("dropout", self.dropout, 0.0, 1.0, high_open=True)
        self.attention = checks.check_bool("attention", self.attention)
        self.clip_denoised = checks.check_bool("clip_denoised", self.clip_denoised)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DDPMConfig:
        """``probgen.checks.config_from_dict(DDPMConfig, values)``: unknown keys raise, naming the closest."""
        return checks.config_from_dict(cls, values)

    @classmethod
    def from_checkpoint(cls, values: dict[str, Any]) -> DDPMConfig:
        """The config stored in a checkpoint; those written before ``num_classes=None`` meant unconditional
        store 0, which is read as None."""
        return cls.from_dict({**values, "num_classes": values.get("num_classes") or None})

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists): JSON-ready and loadable with ``weights_only=True``."""
        return _plain(asdict(self))


@dataclass
class TrainConfig:
    """A DDPM training run (``probgen.diffusion.train_ddpm``): the model, the data and the schedule."""

    model: dict = field(default_factory=dict)  # DDPMConfig fields of the model (x_shape: the data's)
    data: str = "mnist-5k"  # a probgen.data name (train split)
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

    # what a resumed run may change (probgen.training.resolve_run_config): budget, cadences, device
    RESUMABLE: ClassVar[frozenset[str]] = frozenset(
        {"steps", "log_every", "ckpt_every", "sample_every", "sample_steps", "sample_method", "num_samples",
         "device"})

    def __post_init__(self) -> None:
        for name, low in (("steps", 1), ("batch_size", 1), ("log_every", 1), ("ckpt_every", 1),
                          ("sample_steps", 1), ("num_samples", 1), ("warmup", 0), ("seed", 0),
                          ("sample_every", 0)):
            setattr(self, name, checks.check_int(name, getattr(self, name), low))
        self.lr = checks.check_float("lr", self.lr, 0.0, low_open=True)
        self.ema = checks.check_float("ema", self.ema, 0.0, 1.0, high_open=True)
        self.grad_clip = checks.check_float("grad_clip", self.grad_clip, 0.0)
        checks.check_choice("sample_method", self.sample_method, METHODS)
        self.amp = checks.check_bool("amp", self.amp)
        checks.check_device_name("device", self.device)
        checks.check_data_name("data", self.data)
        if not isinstance(self.model, dict):
            raise TypeError(f"`model` must be a dict of DDPMConfig fields, got {type(self.model).__name__}")
        DDPMConfig.from_dict(self.model)  # its fields are checked now, not when the model is built

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """``probgen.checks.config_from_dict(TrainConfig, values)``."""
        return checks.config_from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))
