"""One reverse step of the two samplers: DDPM ancestral sampling and DDIM.

Both take the current x_t (B, C, H, W), the predicted noise eps_theta(x_t, t) and the cumulative products
alpha_bar_t and alpha_bar_prev (of the next, smaller step in the sampling sequence; 1 after the last step),
so they run over every step t = T..1 or over any decreasing subsequence of steps.

* **DDPM** (Ho et al. 2020, arXiv 2006.11239, Algorithm 2): x_{t-1} ~ N(mu~_t(x_t, x0_hat), beta~_t I), the
  Gaussian posterior q(x_{t-1} | x_t, x_0) at the predicted x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) /
  sqrt(alpha_bar_t) (their eqs. 6-7). Without clipping x0_hat, its mean equals Algorithm 2's
  (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t). On a subsequence of steps, beta_t becomes
  1 - alpha_bar_t / alpha_bar_prev (the respacing of Nichol and Dhariwal 2021, arXiv 2102.09672).
* **DDIM** (Song, Meng and Ermon 2020, arXiv 2010.02502, eq. 12):
  x_prev = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev - sigma^2) eps + sigma z with
  sigma = eta sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) sqrt(1 - alpha_bar_t / alpha_bar_prev).
  eta = 0 is deterministic; eta = 1 is the DDPM step above.

No noise is drawn after the last step (alpha_bar_prev = 1, where both variances are 0), as in Algorithm 2.
"""

from __future__ import annotations

import torch

from probgen.checks import check_int
from probgen.diffusion.config import METHODS

__all__ = ["METHODS", "ddim_step", "ddpm_mean_var", "ddpm_step", "predicted_x0", "timestep_sequence"]


def predicted_x0(x_t: torch.Tensor, eps: torch.Tensor, ab_t: torch.Tensor, clip: bool) -> torch.Tensor:
    """x0_hat from x_t and the predicted noise (clipped to [-1, 1] when ``clip``): (B, C, H, W)."""
    x0 = (x_t - (1 - ab_t).sqrt() * eps) / ab_t.sqrt()
    return x0.clamp(-1, 1) if clip else x0


def ddpm_mean_var(x_t: torch.Tensor, eps: torch.Tensor, ab_t: torch.Tensor, ab_prev: torch.Tensor,
                  clip: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (B, C, H, W) and variance beta~ (scalar tensor) of the ancestral step x_t -> x_prev."""
    alpha = ab_t / ab_prev  # alpha_t (or the product over a skipped stretch)
    beta = 1 - alpha
    x0 = predicted_x0(x_t, eps, ab_t, clip)
    mean = (ab_prev.sqrt() * beta / (1 - ab_t)) * x0 + (alpha.sqrt() * (1 - ab_prev) / (1 - ab_t)) * x_t
    return mean, beta * (1 - ab_prev) / (1 - ab_t)


def ddpm_step(x_t: torch.Tensor, eps: torch.Tensor, ab_t: torch.Tensor, ab_prev: torch.Tensor,
              clip: bool, last: bool) -> torch.Tensor:
    """One ancestral step: x_prev (B, C, H, W) ~ N(mean, beta~); the mean alone after the last step."""
    mean, var = ddpm_mean_var(x_t, eps, ab_t, ab_prev, clip)
    return mean if last else mean + var.sqrt() * torch.randn_like(x_t)


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, ab_t: torch.Tensor, ab_prev: torch.Tensor,
              clip: bool, last: bool, eta: float = 0.0) -> torch.Tensor:
    """One DDIM step x_t -> x_prev (B, C, H, W); ``eta`` scales the injected noise (0: deterministic)."""
    x0 = predicted_x0(x_t, eps, ab_t, clip)
    if clip:  # keep eps consistent with the clipped x0_hat
        eps = (x_t - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()
    var = eta**2 * (1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)
    x_prev = ab_prev.sqrt() * x0 + (1 - ab_prev - var).clamp(min=0).sqrt() * eps
    return x_prev if last or eta == 0 else x_prev + var.sqrt() * torch.randn_like(x_t)


def timestep_sequence(timesteps: int, steps: int | None) -> torch.Tensor:
    """Decreasing 0-based steps to visit: all T (``steps`` None) or ``steps`` evenly spaced: (S,) int64.

    The sequence always starts at T - 1 (pure noise) and ends at 0.
    """
    if steps is None:
        return torch.arange(timesteps - 1, -1, -1)
    if check_int("steps", steps, 1, timesteps) == timesteps:
        return torch.arange(timesteps - 1, -1, -1)
    if steps == 1:
        return torch.tensor([timesteps - 1])
    seq = torch.linspace(0, timesteps - 1, steps, dtype=torch.float64).round().long()  # distinct: steps <= T
    return seq.flip(0)
