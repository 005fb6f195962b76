"""``DDPM``: a denoising diffusion probabilistic model (Ho, Jain and Abbeel 2020, arXiv 2006.11239).

The forward process adds Gaussian noise over T steps (:mod:`probgen.diffusion.schedule`); a U-Net
eps_theta(x_t, t) learns to predict that noise with the "simple" loss of Ho et al. (their eq. 14,
Algorithm 1): E_{t, x_0, eps} || eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2.
Sampling runs the learned reverse chain from x_T ~ N(0, I), by ancestral sampling (Algorithm 2) or,
faster, by DDIM over a subsequence of steps (:mod:`probgen.diffusion.sampling`).

Images are in [0, 1] at the API boundary and scaled to [-1, 1] inside, as in the paper. Real-valued tensor
arguments (images, noise) must be floating point: a lower precision than the network's is converted, a
higher one (float64 on a float32 model) refused with a message naming it (``probgen.checks_torch``).

As a Pyro program (:meth:`DDPM.model`) the reverse process is a Markov chain of Gaussian sample sites
``x_T``, ..., ``x_1`` under one ``pyro.plate("data", n)``, ending in a deterministic site ``x``, so
``poutine.trace`` and ``Predictive`` work on it as on the VAE's and the GAN's models.
"""

from __future__ import annotations

import copy
import os

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from probgen.checkpoint import expect_kind, load_checkpoint, load_weights, rebuilding
from probgen.checks import check_choice, check_float, check_int
from probgen.checks_torch import as_model_dtype, check_image_batch, check_labels, check_steps
from probgen.diffusion.config import METHODS, DDPMConfig
from probgen.diffusion.sampling import ddim_step, ddpm_mean_var, ddpm_step, timestep_sequence
from probgen.diffusion.schedule import NoiseSchedule
from probgen.diffusion.unet import UNet
from probgen.training.loop import eval_mode

KIND = "probgen.diffusion.DDPM"  # the "kind" entry of DDPM checkpoints

_RANGE_TOL = 1e-4  # round-off allowed outside [0, 1]


class DDPM(nn.Module):
    """A DDPM over images of shape ``x_shape`` (C, H, W).

    Build it from a :class:`DDPMConfig`, a dict, or keywords (which override the config)::

        ddpm = DDPM(x_shape=(1, 28, 28), timesteps=1000, schedule="cosine")
        ddpm.loss(x)          # x (B, 1, 28, 28) in [0, 1] -> scalar
        ddpm.sample(16)       # (16, 1, 28, 28) in [0, 1], 1,000 ancestral steps
        ddpm.sample(16, 100)  # 100 respaced ancestral steps
        ddpm.sample(16, 50, method="ddim")  # 50 deterministic DDIM steps

    Unknown keys raise a ValueError naming them.

    Attributes:
        config: the :class:`DDPMConfig`.
        schedule: the :class:`NoiseSchedule` (betas, alpha_bar, ... as buffers).
        net: the noise predictor eps_theta, a :class:`UNet`.
        net_ema: an exponential moving average of ``net`` (None until :meth:`enable_ema`); sampling uses it.
    """

    def __init__(self, config: DDPMConfig | dict | None = None, **overrides) -> None:
        super().__init__()
        if isinstance(config, DDPMConfig):
            config = config.to_dict()
        elif config is not None and not isinstance(config, dict):
            raise TypeError(f"`config` must be a DDPMConfig, a dict or None, got {type(config).__name__}")
        self.config = DDPMConfig.from_dict({**(config or {}), **overrides})
        c = self.config
        self.schedule = NoiseSchedule(c.schedule, c.timesteps)
        self.net = UNet(channels=c.x_shape[0], image_size=c.x_shape[1:], base_channels=c.base_channels,
                        channel_mults=c.channel_mults, num_res_blocks=c.num_res_blocks, attention=c.attention,
                        dropout=c.dropout, num_classes=c.num_classes)
        self.net_ema: UNet | None = None

    # ------------------------------------------------------------------------------------------ properties

    @property
    def x_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images."""
        return self.config.x_shape

    @property
    def timesteps(self) -> int:
        """T, the number of diffusion steps."""
        return self.config.timesteps

    @property
    def num_classes(self) -> int | None:
        """None for an unconditional DDPM, else the number of classes."""
        return self.config.num_classes

    @property
    def device(self) -> torch.device:
        """Where the network's weights are."""
        return next(self.net.parameters()).device

    def _dtype(self) -> torch.dtype:
        return next(self.net.parameters()).dtype

    @property
    def sampler_net(self) -> UNet:
        """The network used to draw samples: the EMA copy when there is one."""
        return self.net_ema if self.net_ema is not None else self.net

    def enable_ema(self) -> DDPM:
        """Add ``net_ema``, a frozen copy of ``net`` that a trainer keeps as a moving average."""
        if self.net_ema is None:
            self.net_ema = copy.deepcopy(self.net).requires_grad_(False).eval()
        return self

    # ------------------------------------------------------------------------------------------ validation

    def _check_x(self, x, name: str = "x") -> torch.Tensor:
        """Validate images (B, C, H, W) in [0, 1]; return them scaled to [-1, 1]."""
        x = check_image_batch(x, self.x_shape, name=name, who="this DDPM", dtype=self._dtype(),
                              value_range=(0.0, 1.0), tol=_RANGE_TOL)
        return x.clamp(0, 1) * 2 - 1

    def _check_noise(self, noise, x0: torch.Tensor, name: str = "noise") -> torch.Tensor:
        """Noise eps of the shape and dtype of the (checked) images ``x0`` (B, C, H, W); drawn when None."""
        if noise is None:
            return torch.randn_like(x0)
        if not isinstance(noise, torch.Tensor) or noise.shape != x0.shape:
            got = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
            raise ValueError(f"`{name}` must be a tensor of the images' shape {tuple(x0.shape)}, got {got}")
        return as_model_dtype(noise, x0.dtype, name=name, who="this DDPM").to(x0.device)

    def _check_t(self, t, n: int, name: str = "t") -> torch.Tensor:
        """0-based steps t (n,) in [0, T) (an int for all); uniform ones when None."""
        if t is None:
            return torch.randint(self.timesteps, (n,), device=self.device)
        return check_steps(t, self.timesteps, n, name=name, who="this DDPM").to(self.device)

    def _check_y(self, y: torch.Tensor | None, n: int, *, sampling: bool = False) -> torch.Tensor | None:
        """Validate labels (n,) (or draw uniform ones when sampling a conditional model without them)."""
        if y is None and sampling and self.num_classes:
            return torch.randint(self.num_classes, (n,), device=self.device)
        y = check_labels(y, self.num_classes, n, who="this DDPM")
        return None if y is None else y.to(self.device, torch.int64)

    # ---------------------------------------------------------------------------------------------- train

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The predicted noise eps_theta(x_t, t [, y]): x_t (B, C, H, W) in [-1, 1] space, t (B,) int64."""
        x_t = check_image_batch(x_t, self.x_shape, name="x_t", who="this DDPM", dtype=self._dtype(),
                               finite=False)
        return self.net(x_t, self._check_t(t, len(x_t)), self._check_y(y, len(x_t)))

    def q_sample(self, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """x_t ~ q(x_t | x_0) for images x (B, C, H, W) in [0, 1] and 0-based steps t (B,): (B, C, H, W),
        in the [-1, 1] space the network sees."""
        x0 = self._check_x(x)
        return self.schedule.q_sample(x0, self._check_t(t, len(x0)), self._check_noise(noise, x0))

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, *, t: torch.Tensor | None = None,
             noise: torch.Tensor | None = None) -> torch.Tensor:
        """Ho et al.'s simple loss: mean squared error of the predicted noise (a scalar).

        Args:
            x: training images (B, C, H, W) in [0, 1].
            y: labels (B,) for a class-conditional DDPM, else None.
            t: 0-based steps (B,) (default: uniform on [0, T)).
            noise: the noise eps (B, C, H, W) (default: standard normal).
        """
        x0 = self._check_x(x)  # (B, C, H, W) in [-1, 1]
        y = self._check_y(y, len(x0))
        t, noise = self._check_t(t, len(x0)), self._check_noise(noise, x0)
        x_t = self.schedule.q_sample(x0, t, noise)  # (B, C, H, W)
        return F.mse_loss(self.net(x_t, t, y), noise)

    # -------------------------------------------------------------------------------------------- sample

    def _steps(self, steps: int | None) -> list[tuple[int, int]]:
        """(t, t_prev) pairs of 0-based steps, t_prev = -1 after the last one."""
        seq = timestep_sequence(self.timesteps, steps).tolist()
        return list(zip(seq, seq[1:] + [-1]))

    def _alpha_bars(self, t: int, t_prev: int) -> tuple[torch.Tensor, torch.Tensor]:
        ab = self.schedule.alpha_bar
        return ab[t], ab[t_prev] if t_prev >= 0 else torch.ones((), device=ab.device)

    @torch.no_grad()
    def sample(self, n: int, steps: int | None = None, *, y: torch.Tensor | None = None,
               method: str = "ddpm", eta: float = 0.0, batch_size: int = 256) -> torch.Tensor:
        """Draw n images (n, C, H, W) in [0, 1] from the reverse process.

        Args:
            n: number of images.
            steps: reverse steps; None runs all T. Fewer steps visit an evenly spaced subsequence.
            y: labels (n,) for a class-conditional DDPM (uniform labels when None).
            method: ``"ddpm"`` (ancestral, Algorithm 2; on fewer steps with respaced betas) or ``"ddim"``
                (deterministic for ``eta`` = 0).
            eta: DDIM noise scale (0: deterministic; 1: the ancestral step).
            batch_size: images per network call.
        """
        check_int("n", n, 1)
        check_choice("method", method, METHODS)
        check_float("eta", eta, 0.0)
        check_int("batch_size", batch_size, 1)
        pairs = self._steps(steps)
        y = self._check_y(y, n, sampling=True)
        out = []
        with eval_mode(self.sampler_net):
            for i in range(0, n, batch_size):
                yb = y[i : i + batch_size] if y is not None else None
                out.append(self._sample_batch(min(batch_size, n - i), pairs, yb, method, eta))
        return ((torch.cat(out) + 1) / 2).clamp_(0, 1)

    def _sample_batch(self, n: int, pairs, y, method: str, eta: float) -> torch.Tensor:
        net, clip = self.sampler_net, self.config.clip_denoised
        x = torch.randn(n, *self.x_shape, device=self.device, dtype=self._dtype())  # x_T: (n, C, H, W)
        for t, t_prev in pairs:
            eps = net(x, torch.full((n,), t, device=x.device, dtype=torch.int64), y)
            ab_t, ab_prev = self._alpha_bars(t, t_prev)
            if method == "ddpm":
                x = ddpm_step(x, eps, ab_t, ab_prev, clip, last=t_prev < 0)
            else:
                x = ddim_step(x, eps, ab_t, ab_prev, clip, last=t_prev < 0, eta=eta)
        return x  # (n, C, H, W) in [-1, 1]

    # ---------------------------------------------------------------------------------------- Pyro model

    def model(self, n: int, y: torch.Tensor | None = None, steps: int | None = None) -> torch.Tensor:
        """Pyro program of the ancestral sampler: site ``x_<T>`` ~ N(0, I), then for each reverse step a
        site ``x_<t>`` ~ N(mu_theta(x_{t+1}), beta~ I) (paper's 1-based t, each (n, C, H, W) with event
        dim 3, under ``pyro.plate("data", n)``), the last step's mean as x_0, and the deterministic site
        ``x`` = (x_0 + 1) / 2 clamped to [0, 1]; returns x. The network runs without gradients (a DDPM is
        trained with :meth:`loss`, not through this program)."""
        check_int("n", n, 1)
        y = self._check_y(y, n, sampling=True)
        pairs, clip, net = self._steps(steps), self.config.clip_denoised, self.sampler_net
        with pyro.plate("data", n), eval_mode(net):
            loc = torch.zeros(n, *self.x_shape, device=self.device, dtype=self._dtype())
            x = pyro.sample(f"x_{self.timesteps}", dist.Normal(loc, 1.0).to_event(3))  # (n, C, H, W)
            for t, t_prev in pairs:
                with torch.no_grad():
                    eps = net(x, torch.full((n,), t, device=x.device, dtype=torch.int64), y)
                    ab_t, ab_prev = self._alpha_bars(t, t_prev)
                    mean, var = ddpm_mean_var(x, eps, ab_t, ab_prev, clip)
                if t_prev < 0:
                    x = mean
                else:
                    x = pyro.sample(f"x_{t_prev + 1}", dist.Normal(mean, var.sqrt()).to_event(3))
            return pyro.deterministic("x", ((x + 1) / 2).clamp(0, 1), event_dim=3)

    # -------------------------------------------------------------------------------------------- state

    def checkpoint_state(self) -> dict:
        """Everything :meth:`from_state` needs: config, weights and whether there is an EMA copy."""
        return {"kind": KIND, "ddpm_config": self.config.to_dict(), "ddpm": self.state_dict(),
                "ema": self.net_ema is not None}

    @classmethod
    def from_state(cls, state: dict, *, source: str = "this checkpoint") -> DDPM:
        """Rebuild a DDPM from :meth:`checkpoint_state` (or a trainer checkpoint) and load its weights.

        Raises:
            CheckpointError: the state is of another kind, lacks an entry, or its weights do not fit the
                DDPM its config describes (``source`` names it in the message).
        """
        expect_kind(state, KIND, source)
        with rebuilding(source, "a DDPM"):
            ddpm = cls(DDPMConfig.from_checkpoint(state["ddpm_config"]))
            if state.get("ema"):
                ddpm.enable_ema()
            load_weights(ddpm, state["ddpm"], source)
        return ddpm

    @classmethod
    def load(cls, path: str | os.PathLike, map_location="cpu") -> DDPM:
        """The DDPM of a checkpoint file (a trainer's ``checkpoints/last.pt``, or ``checkpoint_state``
        saved with ``probgen.checkpoint.save_checkpoint``).

        Raises:
            CheckpointError: naming the file and what is wrong (see ``probgen.checkpoint``).
        """
        return cls.from_state(load_checkpoint(path, map_location=map_location), source=repr(str(path)))

    def extra_repr(self) -> str:
        c = self.config
        params = sum(p.numel() for p in self.net.parameters())
        return (f"x_shape={c.x_shape}, timesteps={c.timesteps}, schedule={c.schedule!r}, "
                f"num_classes={c.num_classes}, params={params:,}, ema={self.net_ema is not None}")
