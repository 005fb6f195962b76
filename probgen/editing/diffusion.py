"""Editing with a DDPM: three ways to steer the reverse chain towards p(x_0 | y).

Everything runs in the network's [-1, 1] space, x' = 2x - 1, where the observation becomes
y' = 2y - A(1) with noise 2 sigma_y. Each method changes only the step x_t -> x_{t-1} of the ancestral
sampler (``probgen.diffusion.sampling``; respaced when ``steps`` < T).

* ``"dps"``, diffusion posterior sampling (Chung, Kim, Mccann, Klasky & Ye, "Diffusion Posterior Sampling
  for General Noisy Inverse Problems", ICLR 2023, arXiv:2209.14687). The conditional score is the
  unconditional one plus grad_{x_t} log p(y | x_t), and p(y | x_t) is approximated by a Gaussian around the
  denoiser's estimate, N(y'; A x0_hat(x_t), (A o A) r_t^2 + 4 sigma_y^2), differentiated through the
  network. ``dps_step="score"`` (default) adds this gradient to the score, with the variance r_t^2 =
  v (1 - abar_t) / (abar_t v + 1 - abar_t) of x_0 given x_t for data of per-pixel variance v = ``prior_var``
  (the Pi-GDM choice, Song, Vahdat, Mardani & Kautz, ICLR 2023): exact when the data are N(m, v I), so
  the sampler then draws the exact posterior up to discretisation. ``dps_step="chung"`` is DPS's own
  update, x_{t-1} = x'_{t-1} - zeta grad ||y' - A x0_hat|| (their Algorithm 1 with zeta_t = zeta / ||.||),
  stronger and heuristic. Any linear operator, sigma_y >= 0. Failure modes: the Gaussian approximation
  is poor at high noise for multi-modal data, so completions can be off-manifold or over-smoothed;
  "chung" can overshoot (saturated, noisy images) for large zeta and under-fit for small; each step costs
  a backward pass through the network (about 3x an unconditional step).
* ``"repaint"`` (Lugmayr, Danelljan, Romero, Yu, Timofte & Van Gool, "RePaint: Inpainting using Denoising
  Diffusion Probabilistic Models", CVPR 2022): masks only, noiseless (sigma_y = 0). After each step the
  observed pixels are replaced by a fresh forward-noised copy of y at the new noise level; ``resample``
  times per step the result is noised back to x_t and the step redone (jump length 1), which lets the
  unobserved pixels harmonise with the observed ones. Exact when the pixels are independent under the
  prior; otherwise approximate, better with more resampling (cost: ``resample`` network calls per step).
  Failure mode: with resample = 1, completions ignore the context across the mask boundary.
* ``"ddnm"`` (Wang, Yu & Zhang, "Zero-Shot Image Restoration Using Denoising Diffusion Null-Space Model",
  ICLR 2023, arXiv:2212.00490): any operator with a pseudo-inverse, noiseless. The denoiser's estimate is
  projected onto {x : A x = y'}: x0 <- x0_hat + A^+(y' - A x0_hat) (the range-space part from y, the
  null-space part from the model), then the usual posterior step q(x_{t-1} | x_t, x0). Exact for isotropic
  Gaussian data; consistent by construction (A x = y at the end). Failure modes: the range and null-space
  parts can disagree (visible seams or colour casts for masks and colorization); observation noise is
  not modelled (DDNM+ is not implemented; use "dps" for sigma_y > 0).

References for the samplers' base steps: Ho, Jain & Abbeel 2020 (arXiv:2006.11239); Dhariwal & Nichol 2021
(guidance by a likelihood gradient, arXiv:2105.05233).
"""

from __future__ import annotations

import torch

from probgen.checks import check_choice, check_float, check_int
from probgen.diffusion.sampling import ddpm_mean_var, ddpm_step, predicted_x0
from probgen.editing.operators import Mask
from probgen.errors import ProbgenError
from probgen.training.loop import eval_mode


def _eps_for(x_t, x0, ab_t):
    """The noise that makes ``x0`` the predicted x_0 of x_t (so the sampling steps can take an x_0)."""
    return (x_t - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()


class _Chain:
    """The reverse chain of one DDPM on N = S * B images, in [-1, 1] space."""

    def __init__(self, ddpm, y, op, sigma_y: float, labels, num_samples: int, steps):
        self.ddpm, self.op = ddpm, op
        self.net, self.clip = ddpm.sampler_net, ddpm.config.clip_denoised
        ones = torch.ones((1, *ddpm.x_shape), dtype=y.dtype, device=y.device)
        y_s = 2 * y - op.apply(ones)  # (B, C', H', W')
        self.y = y_s.repeat(num_samples, 1, 1, 1)  # (N, ...), sample-major
        self.sigma = 2.0 * sigma_y
        self.labels = None if labels is None else labels.repeat(num_samples)
        self.n = len(self.y)
        self.pairs = ddpm._steps(steps)

    def eps(self, x, t):
        return self.net(x, torch.full((self.n,), t, device=x.device, dtype=torch.int64), self.labels)

    def start(self):
        return torch.randn((self.n, *self.ddpm.x_shape), device=self.y.device, dtype=self.y.dtype)


def dps(chain: _Chain, *, dps_step: str = "score", prior_var: float = 1.0, zeta: float = 1.0,
        guidance_scale: float = 1.0) -> torch.Tensor:
    check_choice("dps_step", dps_step, ("score", "chung"))
    check_float("prior_var", prior_var, 0.0, low_open=True)
    check_float("zeta", zeta, 0.0)
    check_float("guidance_scale", guidance_scale, 0.0)
    op, x = chain.op, chain.start()
    for t, t_prev in chain.pairs:
        ab_t, ab_prev = chain.ddpm._alpha_bars(t, t_prev)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            eps = chain.eps(x, t)
            x0 = predicted_x0(x, eps, ab_t, clip=False)
            res = chain.y - op.apply(x0)
            if dps_step == "score":
                r2 = prior_var * (1 - ab_t) / (ab_t * prior_var + 1 - ab_t)
                var = (op.variance(torch.full_like(x0[:1], float(r2))) + chain.sigma**2).clamp(min=1e-12)
                obj = -0.5 * (res * res / var).sum()
            else:
                norm = res.flatten(1).norm(dim=1)  # (N,)
                obj = -norm.sum()  # grad of ||res|| = grad ||res||^2 / (2 ||res||): DPS's normalised step
            (grad,) = torch.autograd.grad(obj, x)
        x, eps = x.detach(), eps.detach()
        if dps_step == "score":
            eps_c = eps - guidance_scale * (1 - ab_t).sqrt() * grad
            x = ddpm_step(x, eps_c, ab_t, ab_prev, chain.clip, last=t_prev < 0)
        else:
            x = ddpm_step(x, eps, ab_t, ab_prev, chain.clip, last=t_prev < 0) + zeta * grad
    return x


def repaint(chain: _Chain, *, resample: int = 5) -> torch.Tensor:
    resample = check_int("resample", resample, 1)
    mask = chain.op.observed(chain.ddpm.x_shape).to(chain.y.device)  # (C, H, W) bool
    x = chain.start()
    for t, t_prev in chain.pairs:
        ab_t, ab_prev = chain.ddpm._alpha_bars(t, t_prev)
        for u in range(resample):
            unknown = ddpm_step(x, chain.eps(x, t), ab_t, ab_prev, chain.clip, last=t_prev < 0)
            known = chain.y if t_prev < 0 else \
                ab_prev.sqrt() * chain.y + (1 - ab_prev).sqrt() * torch.randn_like(chain.y)
            x_prev = torch.where(mask, known, unknown)
            if u < resample - 1 and t_prev >= 0:  # back to x_t: q(x_t | x_prev)
                alpha = ab_t / ab_prev
                x = alpha.sqrt() * x_prev + (1 - alpha).sqrt() * torch.randn_like(x_prev)
        x = x_prev
    return x


def ddnm(chain: _Chain) -> torch.Tensor:
    op, x = chain.op, chain.start()
    for t, t_prev in chain.pairs:
        ab_t, ab_prev = chain.ddpm._alpha_bars(t, t_prev)
        x0 = predicted_x0(x, chain.eps(x, t), ab_t, chain.clip)
        x0 = op.project(x0, chain.y)  # range space from y, null space from the model
        if t_prev < 0:
            return x0
        mean, var = ddpm_mean_var(x, _eps_for(x, x0, ab_t), ab_t, ab_prev, clip=False)
        x = mean + var.sqrt() * torch.randn_like(x)
    return x


SAMPLERS = {"dps": dps, "repaint": repaint, "ddnm": ddnm}


def sample_x(ddpm, y, op, sigma_y: float, labels, num_samples: int, method: str, *, steps=None,
             info: dict | None = None, **kw) -> torch.Tensor:
    """Completions (num_samples, B, C, H, W) in [-1, 1] space (unclamped) by ``method``."""
    if method == "repaint" and not isinstance(op, Mask):
        raise ProbgenError(f"method='repaint' needs a Mask operator, got `operator`={op!r}; use 'ddnm' or "
                           "'dps'")
    chain = _Chain(ddpm, y, op, sigma_y, labels, num_samples, steps)
    if info is not None:
        info["steps"] = len(chain.pairs)
    with torch.no_grad(), eval_mode(chain.net):
        x = SAMPLERS[method](chain, **kw)
    return x.reshape(num_samples, len(y), *x.shape[1:])
