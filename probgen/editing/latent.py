"""Posterior inference over a latent code z ~ N(0, I) given an observation, for the VAE and the GAN.

Both families generate x = decode(z) from a standard-normal z, so editing is inference in the Pyro program

    z ~ N(0, I_d)            (per image, under pyro.plate("images", B))
    y ~ p(y | z)             (pyro.factor("y", log_lik(z)): the observation's log-likelihood)

and a completion is decode(z) for z from the posterior p(z | y). ``LatentProblem`` holds ``log_lik`` and
``decode``; two samplers here act on any problem:

* :func:`svi`: stochastic variational inference with a per-image Gaussian guide q(z) = N(m_b, L_b L_b^T)
  (full-rank by default, ``guide="diag"`` for a mean-field one), fitted with ``pyro.infer.SVI`` and
  ``Trace_ELBO``; completions decode draws from q. A Gaussian guide is exact when the posterior is Gaussian
  (a linear decoder) and otherwise covers one mode of it.
* :func:`nuts`: the No-U-Turn sampler (Hoffman & Gelman 2014) through ``pyro.infer.MCMC``: K chains, one
  per requested sample, run side by side as one state (K, B, d) (the target factorises, so this is K
  independent chains sharing a step size and mass matrix), each started from its own prior draw; the
  chains' final states are the samples. Chains that start in different modes of a multi-modal posterior
  give diverse completions, but are not reweighted between modes.

The VAE's third sampler, importance sampling with the encoder as proposal, is in ``probgen.editing.vae``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from torch import nn

from probgen.checks import check_choice, check_float, check_int


@dataclass
class LatentProblem:
    """The posterior p(z | y) of a latent-variable model, for B images at once.

    Attributes:
        dim: d, the size of z.
        batch: B, the number of observed images.
        log_lik: z (..., B, d) -> log p(y | z) (..., B), differentiable in z.
        decode: z (..., B, d) -> images (..., B, C, H, W) in [0, 1].
        like: a tensor giving the dtype and device of z.
    """

    dim: int
    batch: int
    log_lik: Callable[[torch.Tensor], torch.Tensor]
    decode: Callable[[torch.Tensor], torch.Tensor]
    like: torch.Tensor

    def zeros(self, *lead: int) -> torch.Tensor:
        return self.like.new_zeros((*lead, self.batch, self.dim))


@contextmanager
def frozen(*modules: nn.Module):
    """Run the block with the modules' parameters not requiring gradients (only z is inferred), then
    restore each flag as it was."""
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


def _model(prob: LatentProblem):
    def model():
        loc = prob.zeros()
        with pyro.plate("images", prob.batch, dim=-1):
            z = pyro.sample("z", dist.Normal(loc, torch.ones_like(loc)).to_event(1))  # (P?, B, d)
            pyro.factor("y", prob.log_lik(z))  # (P?, B)
    return model


def svi(prob: LatentProblem, num_samples: int, *, steps: int = 500, lr: float = 0.05, particles: int = 4,
        guide: str = "mvn", init_loc: torch.Tensor | None = None, init_scale: float | torch.Tensor = 0.1,
        restarts: int = 1, info: dict | None = None) -> torch.Tensor:
    """z (num_samples, B, d) from a per-image Gaussian guide fitted by SVI (see the module docstring).

    ``steps`` Adam steps at learning rate ``lr`` decayed 100-fold by the last one (``ClippedAdam``'s
    ``lrd``), ``particles`` vectorised ELBO particles; ``init_loc`` (B, d) starts the guide's means
    (default 0), ``init_scale`` its standard deviations. ``restarts`` > 1 fits that many guides per image
    side by side, the extra ones started at ``init_loc`` plus a prior draw, and samples their mixture with
    weights softmax(ELBO_r) (each ELBO estimated from 32 draws): different restarts can settle in different
    modes, and a mode's weight follows its evidence. ``info`` receives the final loss (and, with restarts,
    the weights (restarts, B)).
    """
    steps, particles = check_int("steps", steps, 1), check_int("particles", particles, 1)
    r, b, d = check_int("restarts", restarts, 1), prob.batch, prob.dim
    check_float("lr", lr, 0.0, low_open=True)
    check_choice("guide", guide, ("mvn", "diag"))
    loc0 = (prob.zeros() if init_loc is None else init_loc.detach()).expand(r, b, d).clone()
    loc0[1:] += torch.randn_like(loc0[1:])
    scale0 = (torch.ones_like(loc0) * init_scale).clamp(min=1e-3).reshape(r * b, d)
    wide = LatentProblem(d, r * b, lambda z: prob.log_lik(z.reshape(*z.shape[:-2], r, b, d)).flatten(-2),
                         prob.decode, prob.like)
    loc, tril, loss = _fit(wide, loc0.reshape(r * b, d), scale0, guide, steps, lr, particles)
    loc, tril = loc.reshape(r, b, d), tril.reshape(r, b, d, d)
    if info is not None:
        info["final_loss"] = loss
    pick = torch.zeros((num_samples, b), dtype=torch.int64, device=loc.device)
    if r > 1:
        w = _restart_weights(prob, loc, tril)  # (R, B)
        pick = torch.multinomial(w.T, num_samples, replacement=True).T  # (S, B)
        if info is not None:
            info["restart_weights"] = w.cpu()
    cols = torch.arange(b, device=loc.device)
    eps = torch.randn((num_samples, b, d, 1), dtype=loc.dtype, device=loc.device)
    return loc[pick, cols] + (tril[pick, cols] @ eps)[..., 0]  # (S, B, d)


def _fit(prob: LatentProblem, loc0, scale0, guide: str, steps: int, lr: float, particles: int):
    """Fit the guide by SVI: its means (B, d), Cholesky factors (B, d, d) and the final loss."""

    def q():
        loc = pyro.param("edit_loc", loc0)
        with pyro.plate("images", prob.batch, dim=-1):
            if guide == "mvn":
                tril = pyro.param("edit_tril", torch.diag_embed(scale0),
                                  constraint=constraints.lower_cholesky)
                pyro.sample("z", dist.MultivariateNormal(loc, scale_tril=tril))
            else:
                scale = pyro.param("edit_scale", scale0, constraint=constraints.positive)
                pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    optim = pyro.optim.ClippedAdam({"lr": lr, "lrd": 0.01 ** (1.0 / steps)})
    elbo = pyro.infer.Trace_ELBO(num_particles=particles, vectorize_particles=True, max_plate_nesting=1)
    with pyro.get_param_store().scope(), torch.enable_grad():
        engine = pyro.infer.SVI(_model(prob), q, optim, elbo)
        for step in range(steps):
            loss = engine.step()
            if not math.isfinite(loss):
                raise FloatingPointError(f"SVI over z diverged at step {step + 1} (loss {loss}); lower `lr` "
                                         f"(now {lr}) or raise `sigma_y`")
        store = pyro.get_param_store()
        loc = store["edit_loc"].detach()
        tril = store["edit_tril"] if guide == "mvn" else torch.diag_embed(store["edit_scale"])
    return loc, tril.detach(), float(loss)


def _restart_weights(prob: LatentProblem, loc, tril, draws: int = 32) -> torch.Tensor:
    """softmax over restarts of each guide's ELBO, E_q[log p(z) + log p(y | z) - log q(z)]: (R, B)."""
    q = dist.MultivariateNormal(loc, scale_tril=tril)  # batch (R, B)
    with torch.no_grad():
        z = q.sample((draws,))  # (M, R, B, d)
        log_p = -0.5 * (z * z).sum(-1) - 0.5 * prob.dim * math.log(2 * math.pi) + prob.log_lik(z)
        elbo = (log_p - q.log_prob(z)).mean(0)  # (R, B)
    return torch.softmax(elbo.double(), 0).to(loc.dtype)


def nuts(prob: LatentProblem, num_samples: int, *, warmup_steps: int = 200, max_tree_depth: int = 6,
         target_accept_prob: float = 0.8, info: dict | None = None) -> torch.Tensor:
    """z (num_samples, B, d): the final states of ``num_samples`` NUTS chains after ``warmup_steps``
    adaptation steps and one more draw (see the module docstring). ``info`` receives the adapted step
    size and the mean acceptance probability over the warmup."""
    warmup_steps = check_int("warmup_steps", warmup_steps, 1)
    max_tree_depth = check_int("max_tree_depth", max_tree_depth, 1)
    check_float("target_accept_prob", target_accept_prob, 0.0, 1.0, low_open=True, high_open=True)
    k = num_samples
    loc = prob.zeros(k)

    def potential(params):  # -log p(z, y) up to a constant: the model's density without tracing it
        z = params["z"]  # (K, B, d)
        return 0.5 * (z * z).sum() - prob.log_lik(z).sum()

    kernel = pyro.infer.NUTS(potential_fn=potential, max_tree_depth=max_tree_depth,
                             target_accept_prob=target_accept_prob)
    warm = {}

    def hook(kern, _samples, stage, _i):
        if stage == "Warmup":
            warm["accept"] = float(kern.logging()["acc. prob"])  # running mean over the warmup

    mcmc = pyro.infer.MCMC(kernel, num_samples=1, warmup_steps=warmup_steps, disable_progbar=True,
                           initial_params={"z": torch.randn_like(loc)}, hook_fn=hook)
    with torch.enable_grad():
        mcmc.run()
    if info is not None:
        info["step_size"] = float(kernel.step_size)
        info["warmup_acceptance"] = warm.get("accept")  # mean acceptance probability over the warmup
    z = mcmc.get_samples()["z"][-1].detach()  # (K, B, d)
    if not torch.isfinite(z).all():
        raise FloatingPointError("NUTS produced non-finite latents; lower `target_accept_prob`'s complement "
                                 "(raise it) or increase `warmup_steps`")
    return z


def gaussian_log_lik(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log N(y; mean, var) summed over the last three dims: (...) from (..., C', H', W')."""
    var = var.clamp(min=1e-12)
    lp = -0.5 * (y - mean) ** 2 / var - 0.5 * var.log() - 0.5 * math.log(2 * math.pi)
    return lp.sum((-3, -2, -1))
