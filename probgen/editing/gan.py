"""Editing with a GAN: condition its Pyro program on the observation and infer z.

The GAN is the program z ~ N(0, I), x = (G(z) + 1) / 2 (``GAN.model``); it has no likelihood of its own, so
the observation carries explicit Gaussian noise, y = A(G(z)) + N(0, sigma_y^2 I) with sigma_y > 0, and
p(z | y) is inferred by ``"svi"`` (a per-image Gaussian guide) or ``"nuts"`` (``probgen.editing.latent``).

The posterior is over the generator's range only: every completion is some G(z). Where the observed part
of an image is not (close to) anything G makes, the posterior concentrates on the z whose images come
closest to it in the observed pixels, and the completion inherits that mismatch (consistency
||A(x) - y|| well above sigma_y is the sign). A GAN that dropped modes has no posterior mass there at all.
"""

from __future__ import annotations

import torch

from probgen.editing import latent


def generator_of(model):
    """The network that draws samples: the EMA generator of a ``probgen.gan.GAN``, or the module itself."""
    return getattr(model, "sampler", model)


def image_shape(model) -> tuple[int, int, int]:
    g = generator_of(model)
    return (g.channels, g.image_size, g.image_size)


def problem(model, y, op, sigma_y: float, labels) -> latent.LatentProblem:
    """The latent problem of this generator and observation; ``labels`` (B,) or None."""
    g = generator_of(model)
    d = g.latent_dim
    var = torch.full((), float(sigma_y) ** 2, dtype=y.dtype, device=y.device)

    def decode(z):
        lead = z.shape[:-1]
        lab = None if labels is None else labels.expand(*lead).reshape(-1)
        x = (g(z.reshape(-1, d), lab) + 1) / 2  # (N, C, H, W)
        return x.reshape(*lead, *x.shape[1:])

    def log_lik(z):
        x = decode(z)
        m = op.apply(x.reshape(-1, *x.shape[-3:]))
        return latent.gaussian_log_lik(m.reshape(*z.shape[:-1], *m.shape[1:]), var, y)

    return latent.LatentProblem(dim=d, batch=len(y), log_lik=log_lik, decode=decode, like=y)


def sample_z(model, y, op, sigma_y: float, labels, num_samples: int, method: str, info: dict | None,
             **kw) -> torch.Tensor:
    """Posterior draws of z (num_samples, B, latent_dim) by ``method`` ("svi" or "nuts")."""
    prob = problem(model, y, op, sigma_y, labels)
    with latent.frozen(generator_of(model)):
        if method == "svi":
            kw.setdefault("restarts", 4)  # several guides per image: diverse completions from several modes
            kw.setdefault("lr", 0.01)  # 0.05 diverged on a trained DCGAN at sigma_y = 0.05 (bench/editing.py)
            return latent.svi(prob, num_samples, info=info, **kw)
        return latent.nuts(prob, num_samples, info=info, **kw)
