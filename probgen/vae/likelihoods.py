"""Decoder likelihoods p(x | z): how a decoder's raw output becomes a distribution over pixels.

Each likelihood says how many raw channels it needs per image channel (``params_per_channel``) and turns
the decoder output ``out`` of shape (..., k*C, H, W) into

* a Pyro distribution with event shape (C, H, W) (:meth:`Likelihood.dist`, used by ``VAE.model``),
* a closed-form log-density summed over pixels (:meth:`Likelihood.log_prob`, the fast ELBO path), which
  equals ``dist(out).log_prob(x)`` exactly,
* the mean image in [0, 1] (:meth:`Likelihood.mean`) and a draw (:meth:`Likelihood.sample`).

Likelihoods:

* ``"bernoulli"``: logits; for binary pixels (grey values in [0, 1] are accepted as soft targets, i.e.
  binary cross-entropy, as in Pyro's VAE example).
* ``"gaussian"``: N(mu(z), sigma^2(z)) per pixel with a decoder-learned standard deviation
  sigma = softplus(raw) + ``min_scale`` (the floor keeps the density bounded on constant pixels).
* ``"continuous-bernoulli"``: the normalised Bernoulli density on [0, 1] (Loaiza-Ganem & Cunningham,
  "The continuous Bernoulli: fixing a pervasive error in variational autoencoders", NeurIPS 2019).
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
import torch.nn.functional as F

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Likelihood:
    """Base class: maps decoder output (..., k*C, H, W) to p(x | z) over (C, H, W) images."""

    name = ""
    params_per_channel = 1
    unit_interval = True  # the data must lie in [0, 1]

    def __init__(self, min_scale: float = 0.01) -> None:
        self.min_scale = min_scale

    def pixel_dist(self, out: torch.Tensor) -> dist.TorchDistribution:
        """Pyro distribution with batch shape (..., C, H, W): one factor per pixel."""
        raise NotImplementedError

    def dist(self, out: torch.Tensor, mask: torch.Tensor | None = None) -> dist.TorchDistribution:
        """Pyro distribution with batch shape ``out.shape[:-3]`` and event shape (C, H, W); pixels where
        ``mask`` (bool, broadcastable to (..., C, H, W)) is False do not count."""
        d = self.pixel_dist(out)
        return (d if mask is None else d.mask(mask)).to_event(3)

    def log_prob_pixels(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | z) per pixel: (..., C, H, W)."""
        raise NotImplementedError

    def log_prob(self, out: torch.Tensor, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | z) summed over the (observed) pixels: (...) from out (..., k*C, H, W), x (..., C, H, W).

        Equals ``self.dist(out, mask).log_prob(x)``, without building a distribution.
        """
        lp = self.log_prob_pixels(out, x)
        if mask is not None:
            lp = lp.masked_fill(~mask, 0.0)
        return lp.sum((-3, -2, -1))

    def log_prob_sum(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | z) summed over pixels and every batch dim: a scalar (the training hot path)."""
        return self.log_prob_pixels(out, x).sum()

    def mean(self, out: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        """Mean image (..., C, H, W), clamped to [0, 1] (``clamp=False``: the exact mean of p(x | z))."""
        raise NotImplementedError

    def sample(self, out: torch.Tensor) -> torch.Tensor:
        """One draw x ~ p(x | z), (..., C, H, W), clamped to [0, 1]."""
        return self.dist(out).sample().clamp(0, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Bernoulli(Likelihood):
    name = "bernoulli"

    def pixel_dist(self, out):
        # validate_args=False: grey levels in [0, 1] are soft targets (cross-entropy), not an error.
        return dist.Bernoulli(logits=out, validate_args=False)

    def log_prob_pixels(self, out, x):
        # -BCE(logits, x), the formula torch's Bernoulli.log_prob uses.
        return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none")

    def log_prob_sum(self, out, x):
        return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="sum")  # one fused kernel

    def mean(self, out, clamp=True):
        return torch.sigmoid(out)

    def sample(self, out):
        return torch.bernoulli(torch.sigmoid(out))


class Gaussian(Likelihood):
    name = "gaussian"
    params_per_channel = 2
    unit_interval = False

    def loc_scale(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Split (..., 2C, H, W) into loc and scale, each (..., C, H, W)."""
        loc, raw = out.chunk(2, dim=-3)
        return loc, F.softplus(raw) + self.min_scale

    def pixel_dist(self, out):
        loc, scale = self.loc_scale(out)
        return dist.Normal(loc, scale)

    def log_prob_pixels(self, out, x):
        loc, scale = self.loc_scale(out)
        return -0.5 * ((x - loc) / scale) ** 2 - scale.log() - _LOG_SQRT_2PI  # (..., C, H, W)

    def mean(self, out, clamp=True):
        loc = self.loc_scale(out)[0]
        return loc.clamp(0, 1) if clamp else loc

    def __repr__(self):
        return f"Gaussian(min_scale={self.min_scale})"


class ContinuousBernoulli(Likelihood):
    name = "continuous-bernoulli"

    def pixel_dist(self, out):
        return dist.ContinuousBernoulli(logits=out)

    def log_prob_pixels(self, out, x):
        cb = torch.distributions.ContinuousBernoulli(logits=out, validate_args=False)
        return cb.log_prob(x.expand_as(out))

    def mean(self, out, clamp=True):
        m = torch.distributions.ContinuousBernoulli(logits=out, validate_args=False).mean
        return m.clamp(0, 1) if clamp else m


_LIKELIHOODS: dict[str, type[Likelihood]] = {c.name: c for c in (Bernoulli, Gaussian, ContinuousBernoulli)}


def list_likelihoods() -> list[str]:
    """Names accepted by ``VAE(likelihood=...)``."""
    return list(_LIKELIHOODS)


def get_likelihood(name: str, min_scale: float = 0.01) -> Likelihood:
    """The likelihood registered as ``name``."""
    if name not in _LIKELIHOODS:
        raise ValueError(f"Unknown likelihood {name!r}; use one of {list_likelihoods()}")
    return _LIKELIHOODS[name](min_scale=min_scale)
