"""Noise schedules and the closed-form forward process of a DDPM.

The forward (noising) process of Ho et al. (2020, arXiv 2006.11239) is the Markov chain
q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I), whose t-step marginal has the closed form

    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),   alpha_bar_t = prod_{s <= t} (1 - beta_s)

(their eq. 4). Two beta schedules: Ho et al.'s **linear** one (1e-4 to 0.02 over 1,000 steps, rescaled by
1000 / T for other T so that alpha_bar_T stays near 0, as Nichol and Dhariwal do) and the **cosine** one of
Nichol and Dhariwal (2021, arXiv 2102.09672, eq. 17), alpha_bar_t = f(t) / f(0) with
f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), s = 0.008, betas clipped at 0.999.

Timesteps are 0-based in code: index t = 0..T-1 stands for the paper's step t + 1.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from probgen.checks import check_choice, check_int
from probgen.diffusion.config import SCHEDULES

__all__ = ["SCHEDULES", "NoiseSchedule", "cosine_betas", "linear_betas", "make_betas"]


def linear_betas(timesteps: int) -> torch.Tensor:
    """Ho et al.'s betas, linear from 1e-4 to 0.02 at T = 1000 (both scaled by 1000 / T): (T,) float64."""
    scale = 1000.0 / timesteps
    return torch.linspace(1e-4 * scale, min(0.02 * scale, 0.999), timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol and Dhariwal's cosine betas, 1 - alpha_bar_t / alpha_bar_{t-1} clipped: (T,) float64."""
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps  # (T + 1,)
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)


def make_betas(schedule: str, timesteps: int) -> torch.Tensor:
    """Betas of a named schedule (``"linear"`` or ``"cosine"``): (T,) float64 in (0, 1)."""
    check_choice("schedule", schedule, SCHEDULES)
    check_int("timesteps", timesteps, 2)
    return linear_betas(timesteps) if schedule == "linear" else cosine_betas(timesteps)


def _gather(a: torch.Tensor, t: torch.Tensor, ndim: int) -> torch.Tensor:
    """a[t] reshaped to broadcast against a (B, ...) tensor of ``ndim`` dimensions: (B, 1, ..., 1)."""
    return a[t].reshape(-1, *([1] * (ndim - 1)))


class NoiseSchedule(nn.Module):
    """The betas and everything derived from them, as (non-persistent) buffers that follow ``.to(device)``.

    Args:
        schedule: ``"linear"`` or ``"cosine"``.
        timesteps: T, the number of diffusion steps.

    Attributes (each (T,) float32, computed in float64):
        betas, alphas (1 - beta), alpha_bar (cumulative product), alpha_bar_prev (alpha_bar shifted by one,
        1 at t = 0), posterior_variance (beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)).
    """

    def __init__(self, schedule: str = "linear", timesteps: int = 1000) -> None:
        super().__init__()
        self.schedule, self.timesteps = schedule, timesteps
        betas = make_betas(schedule, timesteps)  # (T,) float64
        alpha_bar = torch.cumprod(1 - betas, 0)
        alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        tables = {
            "betas": betas,
            "alphas": 1 - betas,
            "alpha_bar": alpha_bar,
            "alpha_bar_prev": alpha_bar_prev,
            "posterior_variance": betas * (1 - alpha_bar_prev) / (1 - alpha_bar),
        }
        for name, value in tables.items():
            self.register_buffer(name, value.float(), persistent=False)  # derived from the config

    def q_mean_var(self, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (B, C, H, W) and variance (B, 1, 1, 1) of q(x_t | x_0) for x0 (B, C, H, W), t (B,) int64."""
        ab = _gather(self.alpha_bar, t, x0.ndim)  # (B, 1, 1, 1)
        return ab.sqrt() * x0, 1 - ab

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Draw x_t ~ q(x_t | x_0) = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise: (B, C, H, W)."""
        noise = torch.randn_like(x0) if noise is None else noise
        ab = _gather(self.alpha_bar, t, x0.ndim)  # (B, 1, 1, 1)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Invert q_sample for x0 given the noise: (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
        ab = _gather(self.alpha_bar, t, x_t.ndim)
        return (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()

    def extra_repr(self) -> str:
        return (f"schedule={self.schedule!r}, timesteps={self.timesteps}, "
                f"alpha_bar_T={float(self.alpha_bar[-1]):.3g}")
