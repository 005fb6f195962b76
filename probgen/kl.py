"""Kullback-Leibler divergence KL(q || p) = E_q[log q(x) / p(x)]: discrete, Gaussian, Monte Carlo.

KL is a sum over x for discrete distributions and an integral for continuous ones. It is >= 0, zero iff
q = p, and not symmetric. Per term, q(x) log(q(x) / p(x)) is large where q is large and p small, and
tiny (even slightly negative) where q is small: KL(q || p) cares about where q puts its mass
(:func:`kl_term_table` reproduces the worked table of the lecture).

The exercise: fit a single Gaussian q to a bimodal p. Minimising the reverse KL(q || p) gives a
*mode-seeking* q that sits on one mode; minimising the forward KL(p || q) gives a *mass-covering* q that
matches p's mean and variance (:func:`fit_gaussian`, :func:`plot_kl_fits`; Bishop, "Pattern Recognition
and Machine Learning", 2006, section 10.1.2; Murphy, "Machine Learning: a Probabilistic Perspective",
2012, section 21.2.2).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.distributions import Distribution, MixtureSameFamily, MultivariateNormal, Normal

from probgen.checks import check_choice, check_float, check_int

_SUM_TOL = 1e-6


# ---------------------------------------------------------------------------------------------- discrete


def _as_probs(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor | np.ndarray | list | tuple):
        raise TypeError(f"`{name}` must be a tensor of probabilities, got {type(x).__name__}")
    t = torch.as_tensor(x, dtype=torch.float64)
    if t.ndim == 0:
        raise ValueError(f"`{name}` must have a last axis over outcomes, got a scalar")
    if not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"`{name}` must hold finite non-negative probabilities, got {t.tolist()}")
    total = t.sum(-1)
    if ((total - 1).abs() > _SUM_TOL).any():
        raise ValueError(f"`{name}` must sum to 1 over its last axis, got sums {total.tolist()}; "
                         f"normalise with {name} / {name}.sum(-1, keepdim=True)")
    return t


def kl_term(q, p) -> torch.Tensor:
    """One term q log(q / p) of a discrete KL (natural log), elementwise (broadcast); 0 where q = 0."""
    q, p = _as_real(q, "q", torch.float64), _as_real(p, "p", torch.float64)
    _broadcast("q", q, "p", p)
    safe = torch.where(q > 0, q, torch.ones_like(q))
    return torch.where(q > 0, q * (safe.log() - p.log()), torch.zeros_like(q))


def kl_discrete(q, p) -> torch.Tensor:
    """KL(q || p) of discrete distributions, probabilities (..., K) -> (...,) float64, in nats.

    Terms with q(x) = 0 contribute 0; q(x) > 0 where p(x) = 0 gives inf. The sum is clamped at 0: KL is
    never negative, but its rounded terms can sum to -1e-16 when q is nearly p.
    """
    q, p = _as_probs(q, "q"), _as_probs(p, "p")
    if q.shape != p.shape:
        raise ValueError(f"`q` has shape {tuple(q.shape)} but `p` has shape {tuple(p.shape)}")
    return kl_term(q, p).sum(-1).clamp(min=0.0)


def kl_term_table(values=(0.9, 0.1)) -> list[dict[str, float]]:
    """The lecture's worked table: q(x) log(q(x)/p(x)) for every pair of ``values``.

    With (0.9, 0.1): q=0.9,p=0.9 -> 0; q=0.9,p=0.1 -> 1.98; q=0.1,p=0.9 -> -0.22; q=0.1,p=0.1 -> 0.
    """
    return [{"q": q, "p": p, "term": float(kl_term(q, p))} for q in values for p in values]


# -------------------------------------------------------------------------------------------- checking


def _as_real(x, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A number, array or tensor as a real tensor (bools, strings and None refused)."""
    if isinstance(x, bool) or not isinstance(x, torch.Tensor | np.ndarray | list | tuple | int | float):
        raise TypeError(f"`{name}` must be a number or a tensor, got {type(x).__name__}")
    t = torch.as_tensor(x, dtype=dtype)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"`{name}` must hold real numbers, got dtype {t.dtype}")
    return t if t.is_floating_point() else t.to(torch.get_default_dtype())


def _positive(x, name: str) -> torch.Tensor:
    t = _as_real(x, name)
    if not bool((t.detach() > 0).all()):
        raise ValueError(f"`{name}` must be positive (a standard deviation), got {t.tolist()}")
    return t


def _broadcast(*named) -> None:
    names, tensors = named[::2], named[1::2]
    try:
        torch.broadcast_shapes(*(t.shape for t in tensors))
    except RuntimeError:
        shapes = ", ".join(f"`{n}` {tuple(t.shape)}" for n, t in zip(names, tensors))
        raise ValueError(f"the shapes of {shapes} do not broadcast together") from None


def _cholesky(cov, name: str, d: int) -> torch.Tensor:
    """The lower Cholesky factor of a covariance (..., D, D); a ValueError if it is not positive definite."""
    cov = _as_real(cov, name)
    if cov.ndim < 2 or cov.shape[-2:] != (d, d):
        raise ValueError(f"`{name}` must be a covariance of shape (..., {d}, {d}), got {tuple(cov.shape)}")
    factor, info = torch.linalg.cholesky_ex(cov)
    if bool((info != 0).any()):
        raise ValueError(f"`{name}` is not a covariance: not symmetric positive definite")
    return factor


def _check_distributions(q, p) -> None:
    for name, d in (("q", q), ("p", p)):
        if not isinstance(d, Distribution):
            raise TypeError(f"`{name}` must be a torch.distributions or Pyro distribution, got "
                            f"{type(d).__name__}")
    if q.event_shape != p.event_shape:
        raise ValueError(f"`q` has event shape {tuple(q.event_shape)} but `p` has {tuple(p.event_shape)}")


# -------------------------------------------------------------------------------------------- continuous


def gaussian_kl(mu_q, sigma_q, mu_p, sigma_p) -> torch.Tensor:
    """Closed-form KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)), elementwise over broadcast shapes.

    log(sigma_p / sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2.
    """
    mu_q, mu_p = _as_real(mu_q, "mu_q"), _as_real(mu_p, "mu_p")
    sigma_q, sigma_p = _positive(sigma_q, "sigma_q"), _positive(sigma_p, "sigma_p")
    _broadcast("mu_q", mu_q, "sigma_q", sigma_q, "mu_p", mu_p, "sigma_p", sigma_p)
    return (sigma_p / sigma_q).log() + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


def mvn_kl(mu_q, cov_q, mu_p, cov_p) -> torch.Tensor:
    """Closed-form KL between multivariate Gaussians: means (..., D), covariances (..., D, D) -> (...,).

    1/2 [tr(S_p^-1 S_q) + (mu_p - mu_q)^T S_p^-1 (mu_p - mu_q) - D + log det S_p - log det S_q].
    """
    mu_q, mu_p = _as_real(mu_q, "mu_q"), _as_real(mu_p, "mu_p")
    d = mu_q.shape[-1] if mu_q.ndim else 0
    if d == 0 or mu_p.shape[-1:] != (d,):
        raise ValueError(f"`mu_q` and `mu_p` must be means of shape (..., D), got {tuple(mu_q.shape)} and "
                         f"{tuple(mu_p.shape)}")
    lq, lp = _cholesky(cov_q, "cov_q", d), _cholesky(cov_p, "cov_p", d)  # (..., D, D)
    a = torch.linalg.solve_triangular(lp, lq, upper=False)  # L_p^-1 L_q, so tr(S_p^-1 S_q) = |a|_F^2
    b = torch.linalg.solve_triangular(lp, (mu_p - mu_q).unsqueeze(-1), upper=False)  # (..., D, 1)
    logdet = 2 * (lp.diagonal(dim1=-2, dim2=-1).log().sum(-1) - lq.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    return 0.5 * (a.square().sum((-2, -1)) + b.square().sum((-2, -1)) - d + logdet)


def kl_monte_carlo(q: Distribution, p: Distribution, num_samples: int = 10_000) -> torch.Tensor:
    """Monte Carlo KL(q || p) = mean of log q(x) - log p(x) over x ~ q; shape q.batch_shape.

    Uses reparameterised samples when q has them, so the estimate is differentiable in q's parameters.
    """
    _check_distributions(q, p)
    check_int("num_samples", num_samples, 1)
    x = q.rsample((num_samples,)) if q.has_rsample else q.sample((num_samples,))  # (S, *batch, *event)
    return (q.log_prob(x) - p.log_prob(x)).mean(0)


def kl_divergence(q, p, *, method: str = "auto", num_samples: int = 10_000) -> torch.Tensor:
    """KL(q || p) in nats.

    Args:
        q, p: probability tensors (..., K) for discrete distributions, or ``torch.distributions`` /
            Pyro distributions with the same event shape.
        method: ``"auto"`` (closed form when there is one: Gaussian-Gaussian here, otherwise torch's
            registry; else Monte Carlo), ``"exact"`` (closed form or an error) or ``"mc"``.
        num_samples: Monte Carlo sample count.

    Returns:
        (...,) for probability tensors, ``q.batch_shape`` for distributions.
    """
    if method not in ("auto", "exact", "mc"):
        raise ValueError(f"`method`={method!r} is not one of 'auto', 'exact', 'mc'")
    if not isinstance(q, Distribution) and not isinstance(p, Distribution):
        return kl_discrete(q, p)
    if not (isinstance(q, Distribution) and isinstance(p, Distribution)):
        raise TypeError(f"`q` and `p` must both be distributions or both probability tensors, got "
                        f"{type(q).__name__} and {type(p).__name__}")
    _check_distributions(q, p)
    if method == "mc":
        return kl_monte_carlo(q, p, num_samples)
    if isinstance(q, Normal) and isinstance(p, Normal):
        return gaussian_kl(q.loc, q.scale, p.loc, p.scale)
    if isinstance(q, MultivariateNormal) and isinstance(p, MultivariateNormal):
        return mvn_kl(q.loc, q.covariance_matrix, p.loc, p.covariance_matrix)
    try:
        return torch.distributions.kl_divergence(q, p)
    except NotImplementedError:
        if method == "exact":
            raise ValueError(f"no closed-form KL for {type(q).__name__} || {type(p).__name__}; "
                             "use method='mc' or 'auto'") from None
        return kl_monte_carlo(q, p, num_samples)


# ----------------------------------------------------------------------------------- the fitting exercise


def bimodal(locs=(-3.0, 3.0), scales=(1.0, 1.0), weights=(0.5, 0.5)) -> MixtureSameFamily:
    """A 1-D mixture of Gaussians (two by default): the multi-modal p of the exercise.

    ``locs``, ``scales`` and ``weights`` are sequences of one length K; scales positive, weights
    non-negative (normalised here)."""
    loc, scale = _as_real(locs, "locs", torch.float64), _positive(scales, "scales").to(torch.float64)
    w = _as_real(weights, "weights", torch.float64)
    k = loc.shape[0] if loc.ndim == 1 else 0
    if k == 0 or scale.shape != (k,) or w.shape != (k,):
        raise ValueError(f"`locs`, `scales` and `weights` must be sequences of one length K >= 1, got "
                         f"shapes {tuple(loc.shape)}, {tuple(scale.shape)} and {tuple(w.shape)}")
    if not bool(torch.isfinite(loc).all()) or not bool((w >= 0).all()) or not float(w.sum()) > 0:
        raise ValueError(f"`locs` must be finite and `weights` non-negative with a positive sum, got "
                         f"{loc.tolist()} and {w.tolist()}")
    return MixtureSameFamily(torch.distributions.Categorical(probs=w / w.sum()), Normal(loc, scale))


def mixture_moments(p: MixtureSameFamily) -> tuple[float, float]:
    """Mean and variance of a 1-D Gaussian mixture (what the forward-KL fit should reach)."""
    w, m, s = p.mixture_distribution.probs, p.component_distribution.loc, p.component_distribution.scale
    mean = (w * m).sum()
    return float(mean), float((w * (s**2 + (m - mean) ** 2)).sum())


@dataclass
class GaussianFit:
    """A fitted q = N(loc, scale^2) and its KL curve (one MC estimate per step)."""

    direction: str  # "reverse" minimises KL(q || p), "forward" minimises KL(p || q)
    loc: float
    scale: float
    history: list[float] = field(default_factory=list, repr=False)

    def q(self) -> Normal:
        f64 = torch.float64
        return Normal(torch.tensor(self.loc, dtype=f64), torch.tensor(self.scale, dtype=f64))


def fit_gaussian(p: Distribution, direction: str = "reverse", *, init_loc: float = 1.0,
                 init_scale: float = 1.0, steps: int = 500, lr: float = 0.1, num_samples: int = 1000,
                 seed: int = 0) -> GaussianFit:
    """Fit q = N(loc, scale^2) to a 1-D ``p`` by Adam on a Monte Carlo estimate of the KL.

    The learning rate is cosine-annealed from ``lr`` to 0 so that the last iterate is not dominated by
    Monte Carlo noise. The reverse KL has one local minimum per mode: which mode q settles on depends on
    ``init_loc`` (the default, 1.0, lies on the right of the default p's two modes at -3 and 3).

    ``"reverse"``: KL(q || p) = E_q[log q - log p] with reparameterised x = loc + scale * eps, eps ~ N(0, 1)
    (gradients flow through the samples). ``"forward"``: KL(p || q) = E_p[log p - log q] with x ~ p; the
    samples do not depend on q, so only -E_p[log q(x)] carries gradients. ``seed`` fixes the draws without
    touching the global RNG.
    """
    check_choice("direction", direction, ("reverse", "forward"))
    if not isinstance(p, Distribution) or p.event_shape != () or p.batch_shape != ():
        raise TypeError(f"`p` must be one 1-D distribution (event and batch shape ()), such as bimodal(), "
                        f"got {p!r}")
    check_float("init_loc", init_loc)
    check_float("init_scale", init_scale, 0.0, low_open=True)
    check_float("lr", lr, 0.0, low_open=True)
    steps, num_samples = check_int("steps", steps, 1), check_int("num_samples", num_samples, 1)
    seed = check_int("seed", seed, 0)
    loc = torch.tensor(float(init_loc), dtype=torch.float64, requires_grad=True)
    log_scale = torch.tensor(math.log(init_scale), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([loc, log_scale], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    history = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(steps):
            q = Normal(loc, log_scale.exp())
            if direction == "reverse":
                x = loc + log_scale.exp() * torch.randn(num_samples, dtype=torch.float64)  # (S,)
                kl = (q.log_prob(x) - p.log_prob(x)).mean()
            else:
                x = p.sample((num_samples,))  # (S,)
                kl = (p.log_prob(x) - q.log_prob(x)).mean()
            opt.zero_grad()
            kl.backward()
            opt.step()
            sched.step()
            history.append(float(kl.detach()))
    return GaussianFit(direction, float(loc.detach()), float(log_scale.detach().exp()), history)


def plot_kl_fits(p: Distribution, fits: list[GaussianFit], path: str | os.PathLike | None = None, ax=None,
                 x_range: tuple[float, float] | None = None):
    """Draw the density of ``p`` and of each fitted q; saved to ``path`` (PNG) if given. Returns the axis."""
    import matplotlib.pyplot as plt

    from probgen.plot import save_figure

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8))
    lo, hi = x_range or (min(f.loc - 4 * f.scale for f in fits), max(f.loc + 4 * f.scale for f in fits))
    x = torch.linspace(lo, hi, 800, dtype=torch.float64)
    ax.fill_between(x, p.log_prob(x).exp(), color="0.85", label="p (bimodal target)")
    styles = {"reverse": ("C3", "KL(q||p), mode-seeking"), "forward": ("C0", "KL(p||q), mass-covering")}
    for f in fits:
        colour, label = styles[f.direction]
        ax.plot(x, f.q().log_prob(x).exp(), color=colour, lw=2,
                label=f"q minimising {label}: N({f.loc:.2f}, {f.scale:.2f}²)")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_ylim(bottom=0)
    if path is not None:
        save_figure(ax.figure if fig is None else fig, Path(path))
    return ax
