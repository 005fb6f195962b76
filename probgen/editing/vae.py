"""Editing with a VAE: the posterior p(z | y) through the decoder's likelihood restricted to the observation.

The observation model given z:

* a ``Mask`` on a ``"bernoulli"`` or ``"continuous-bernoulli"`` VAE: the decoder's own likelihood on the
  observed pixels, p(y | z) = prod_{observed i} p(x_i = y_i | z) (``VAE.inpaint``'s model; sigma_y must be
  0, the likelihood is the observation noise);
* any other linear operator A (and masks on a ``"gaussian"`` VAE): A(x) for x ~ p(x | z) has mean
  A mu(z) and, the pixels being independent given z and each output pixel of A depending on its own
  pixels, variance (A o A) s^2(z) (``Operator.variance``); with the observation noise,
  p(y | z) = N(y; A mu(z), (A o A) s^2(z) + sigma_y^2) (floored at 1e-6). For a Gaussian decoder and a
  mask this is the exact likelihood of the observed pixels; otherwise a moment-matched Gaussian.

Samplers (``method``): ``"is"`` self-normalised importance sampling with the encoder as proposal, the
scheme of ``VAE.inpaint`` (``probgen.vae.estimators``) generalised from masks to any operator: the encoder
sees the decoded prior mean with its A-part replaced by the observation, x = m + A^+(y - A m), and its
defensive mixture q (``probgen.vae.estimators``) proposes ``proposals`` draws; for ``rounds`` - 1 more
rounds the proposal is moved to the weighted draws' mean and standard deviations (adaptive importance
sampling: the encoder's q of a filled-in image can be too narrow, when few pixels are observed and the
posterior is wide, or too wide, when a trained Bernoulli decoder sees most pixels; the standard deviations
are shrunk towards the previous ones when the ESS is small, see ``_adapt``).
The last round's weighted draws are resampled (multinomial) into ``num_samples`` posterior draws, and
``info["ess"]`` reports each image's effective sample size (sum w)^2 / sum w^2 of that round: a small
ESS (say < 50) means the draws are few distinct z, and the posterior is poorly covered.
``"svi"`` (started from the encoder's q) and ``"nuts"`` (chains started from prior draws):
``probgen.editing.latent``.
"""

from __future__ import annotations

import torch

from probgen.checks import check_int
from probgen.editing import latent
from probgen.editing.operators import Mask
from probgen.errors import ProbgenError
from probgen.vae import estimators

_MIN_VAR = 1e-6


def observation_log_lik(vae, y: torch.Tensor, op, sigma_y: float):
    """decoder output (..., B, k*C, H, W) -> log p(y | z) (..., B), as in the module docstring."""
    lik = vae.likelihood
    if isinstance(op, Mask) and lik.name != "gaussian":
        if sigma_y > 0:
            raise ProbgenError(f"`sigma_y`={sigma_y} is not supported for a Mask on a {lik.name!r} VAE: the "
                               "decoder's likelihood on the observed pixels is the observation model; pass "
                               "sigma_y=0")
        mask = op.observed(vae.x_shape).to(y.device)
        return lambda out: lik.log_prob(out, y, mask)

    def log_lik(out):
        lead = out.shape[:-3]
        flat = out.reshape(-1, *out.shape[-3:])
        mean = lik.mean(flat, clamp=False)  # (N, C, H, W)
        var = lik.pixel_dist(flat).variance
        m, v = op.apply(mean), op.variance(var) + sigma_y**2
        shape = (*lead, *m.shape[1:])
        return latent.gaussian_log_lik(m.reshape(shape), v.reshape(shape).clamp(min=_MIN_VAR), y)
    return log_lik


def fill(op, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x with its A-part replaced by the observation: x + A^+(y - A x), clamped to [0, 1] (B, C, H, W)."""
    return op.project(x, y).clamp(0, 1)


def problem(vae, y, op, sigma_y: float, y1h) -> latent.LatentProblem:
    """The latent problem (``probgen.editing.latent``) of this VAE and observation."""
    log_lik_out = observation_log_lik(vae, y, op, sigma_y)
    return latent.LatentProblem(
        dim=vae.z_dim, batch=len(y), like=y,
        log_lik=lambda z: log_lik_out(vae._decoder_output(z, y1h)),
        decode=lambda z: vae.likelihood.mean(vae._decoder_output(z, y1h)))


def start(vae, y, op, y1h) -> torch.Tensor:
    """The first completion the encoder sees: the decoded prior mean with its A-part set to y."""
    z0 = y.new_zeros((len(y), vae.z_dim))
    return fill(op, y, vae.likelihood.mean(vae._decoder_output(z0, y1h)))


def importance(vae, y, op, sigma_y: float, y1h, num_samples: int, *, proposals: int = 1000, rounds: int = 5,
               chunk_size: int = 4096, info: dict | None = None) -> torch.Tensor:
    """z (num_samples, B, z_dim) by self-normalised importance sampling (see the module docstring)."""
    proposals, rounds = check_int("proposals", proposals, 1), check_int("rounds", rounds, 1)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    log_lik = observation_log_lik(vae, y, op, sigma_y)
    x = start(vae, y, op, y1h)
    loc, scale = vae.encoder(x, y1h)  # the first proposal: the encoder on the filled-in observation
    per_chunk = max(1, chunk_size // len(y))
    for r in range(rounds):
        lws, zs = [], []
        for k0 in range(0, proposals, per_chunk):
            lw, _, z = estimators._log_weights(vae, x, y1h, loc, scale, min(per_chunk, proposals - k0),
                                               defensive=True, log_lik=log_lik)
            lws.append(lw.double())
            zs.append(z)
        lw = torch.cat(lws)  # (K, B) float64
        z = torch.cat(zs)  # (K, B, z_dim)
        w = torch.softmax(lw, 0).to(z.dtype)[..., None]  # (K, B, 1)
        if r < rounds - 1:
            loc, scale = _adapt(z, w, scale)
    w = w[..., 0]
    if info is not None:
        info["ess"] = (1.0 / (w * w).sum(0)).detach().float().cpu()  # (B,)
    idx = torch.multinomial(w.T.float(), num_samples, replacement=True).T  # (S, B)
    return z.gather(0, idx[..., None].expand(-1, -1, z.shape[-1])).detach()  # (S, B, z_dim)


def _adapt(z, w, scale):
    """The next proposal: the weighted draws' mean, and their variance shrunk towards the current one with
    a pseudo-count of one draw, (ess var + scale^2) / (ess + 1), so that a round whose weight sits on one
    draw halves the variance instead of collapsing onto that draw (on a trained VAE, where the posterior
    given most pixels is far narrower than the encoder's q, this anneals the width over the rounds)."""
    loc = (w * z).sum(0)  # (B, d)
    ess = (1.0 / (w * w).sum(0))  # (B, 1)
    var = (w * (z - loc) ** 2).sum(0)
    return loc, ((ess * var + scale**2) / (ess + 1)).sqrt()


def sample_z(vae, y, op, sigma_y: float, y1h, num_samples: int, method: str, info: dict | None,
             **kw) -> torch.Tensor:
    """Posterior draws of z (num_samples, B, z_dim) by ``method`` ("is", "svi" or "nuts")."""
    if method == "is":
        return importance(vae, y, op, sigma_y, y1h, num_samples, info=info, **kw)
    prob = problem(vae, y, op, sigma_y, y1h)
    with latent.frozen(vae):
        if method == "svi":
            loc, scale = vae.encoder(start(vae, y, op, y1h), y1h)
            kw.setdefault("init_loc", loc)
            kw.setdefault("init_scale", scale)
            return latent.svi(prob, num_samples, info=info, **kw)
        return latent.nuts(prob, num_samples, info=info, **kw)
