"""Importance sampling with a trained VAE: the IWAE log-likelihood bound and inpainting.

Both draw z_i ~ q(z | x) in chunks of at most ``chunk_size`` decoded images and combine the log weights
log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x) on the fly (a streaming log-sum-exp), so memory
stays bounded for any number of samples k.

References: Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", arXiv:1509.00519.
"""

from __future__ import annotations

import math

import torch


def _log_weights(vae, x, y1h, loc, scale, k: int, mask=None, defensive: bool = False, log_lik=None):
    """k draws z from q = N(loc, scale^2): log weights (k, B), decoder outputs (k, B, k*C, H, W) and z.

    ``log_lik`` (decoder output -> (k, B)) replaces log p(x | z) (e.g. the likelihood of an observation
    A(x) + noise, ``probgen.editing``); ``x`` and ``mask`` are then unused.

    ``defensive``: draw from the mixture 1/2 N(loc, scale^2) + 1/2 N(loc, (2 scale)^2) instead, whose
    weights stay bounded when the target is wider than q (Hesterberg 1995, defensive importance sampling).
    """
    eps = torch.randn((k, *loc.shape), dtype=loc.dtype, device=loc.device)  # (k, B, z_dim)
    if defensive:
        eps[1::2] *= 2.0  # every other draw from the wide component
    z = loc + scale * eps
    out = vae._decoder_output(z, y1h)  # (k, B, k*C, H, W)
    log_px = vae.likelihood.log_prob(out, x, mask) if log_lik is None else log_lik(out)  # (k, B)
    u2 = (eps * eps).sum(-1)  # ((z - loc) / scale)^2 summed, (k, B)
    if defensive:  # log of the mixture density, up to -sum log scale and the 2*pi constants
        log_q = torch.logaddexp(-0.5 * u2, -0.5 * u2 / 4 - loc.shape[-1] * math.log(2.0)) - math.log(2.0)
    else:
        log_q = -0.5 * u2
    # log p(z) - log q(z): the 2*pi constants cancel
    log_ratio = -0.5 * (z * z).sum(-1) - log_q + scale.log().sum(-1)
    return log_px + log_ratio, out, z


def _batches(n: int, k: int, chunk_size: int):
    """(image slice, draws per chunk): at most ``chunk_size`` images decoded at once."""
    per = max(1, chunk_size // k)  # images per outer chunk
    for b0 in range(0, n, per):
        yield slice(b0, min(n, b0 + per)), max(1, chunk_size // min(per, n - b0))


def iwae(vae, x: torch.Tensor, y1h: torch.Tensor | None, k: int, chunk_size: int) -> torch.Tensor:
    """IWAE estimate of log p(x) with k samples: (B,) float32, nats."""
    result = torch.empty(len(x), dtype=torch.float64, device=x.device)
    for sl, per_chunk in _batches(len(x), k, chunk_size):
        xb, yb = x[sl], None if y1h is None else y1h[sl]
        loc, scale = vae.encoder(xb, yb)  # (b, z_dim)
        chunks = []
        for k0 in range(0, k, per_chunk):
            lw, _, _ = _log_weights(vae, xb, yb, loc, scale, min(per_chunk, k - k0))
            chunks.append(lw.double())
        result[sl] = torch.logsumexp(torch.cat(chunks), dim=0) - math.log(k)  # (b,)
    return result.float()


def _weighted_mean(vae, x, y1h, loc, scale, k: int, per_chunk: int, mask):
    """Self-normalised importance-sampling mean of E[mean image | x_obs]: (B, C, H, W)."""
    m = torch.full((len(x),), -math.inf, dtype=torch.float64, device=x.device)  # running max (B,)
    s = torch.zeros_like(m)  # running sum of weights (B,)
    acc = torch.zeros(x.shape, dtype=torch.float64, device=x.device)  # running weighted images
    for k0 in range(0, k, per_chunk):
        lw, out, _ = _log_weights(vae, x, y1h, loc, scale, min(per_chunk, k - k0), mask, defensive=True)
        lw = lw.double()  # (c, B)
        m_new = torch.maximum(m, lw.max(0).values)
        w = torch.exp(lw - m_new)  # (c, B)
        shrink = torch.exp(m - m_new)  # (B,)
        s = s * shrink + w.sum(0)
        images = vae.likelihood.mean(out, clamp=False).double()  # (c, B, C, H, W), exact E[x | z]
        acc = acc * shrink.view(-1, 1, 1, 1) + (w[..., None, None, None] * images).sum(0)
        m = m_new
    return (acc / s.view(-1, 1, 1, 1)).to(x.dtype)


def inpaint(vae, x, mask, y1h, k: int, rounds: int, chunk_size: int) -> torch.Tensor:
    """Complete ``x`` where ``mask`` is False: (B, C, H, W), observed pixels kept as they are."""
    z0 = torch.zeros(1, vae.z_dim, dtype=x.dtype, device=x.device)
    y0 = None if y1h is None else y1h
    prior_mean = vae.likelihood.mean(vae._decoder_output(z0.expand(len(x), -1), y0))  # (B, C, H, W)
    filled = torch.where(mask, x, prior_mean)
    result = torch.empty_like(x)
    for sl, per_chunk in _batches(len(x), k, chunk_size):
        xb, mb, yb = x[sl], mask[sl], None if y1h is None else y1h[sl]
        fb = filled[sl]
        for _ in range(rounds):
            loc, scale = vae.encoder(fb, yb)  # proposal from the current completion
            fb = torch.where(mb, xb, _weighted_mean(vae, xb, yb, loc, scale, k, per_chunk, mb).clamp(0, 1))
        result[sl] = fb
    return result
