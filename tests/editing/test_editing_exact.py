"""Each sampler against the closed-form posterior of a linear-Gaussian toy (tests/editing/editing_toys.py).

Statistics over the draws: the largest error of the posterior mean in units of the largest posterior
standard deviation, and the relative Frobenius error of the covariance. Tolerances are stated per sampler
(Monte-Carlo error at these draw counts is about 0.03 and 0.05-0.1; the DDPM's discretisation adds a bias).
"""

import pytest
import torch
from editing_toys import (
    SHAPE,
    LinearGenerator,
    gaussian_ddpm,
    latent_posterior,
    linear_vae,
    pixel_posterior,
    weights,
)

from probgen.editing import Downsample, Grayscale, Mask
from probgen.editing import diffusion as ed_diffusion
from probgen.editing import gan as ed_gan
from probgen.editing import vae as ed_vae

S_VAE, SIGMA = 0.1, 0.05


def ops():
    m = torch.zeros(2, 2, dtype=torch.bool)
    m[0] = True
    return {"mask": Mask(m), "down": Downsample(2), "gray": Grayscale()}


def errors(draws, means, cov):
    """draws (S, B, k) float64 vs exact means (B, k) and a covariance (k, k) shared by the images."""
    sd = cov.diagonal().clamp(min=0).sqrt().max()
    mean_err = ((draws.mean(0) - means).abs().max() / sd).item()
    cov_err = max((torch.cov(draws[:, i].T) - cov).norm() / cov.norm() for i in range(draws.shape[1])).item()
    return mean_err, cov_err


def observe(op, seed=3, sigma=SIGMA):
    g = torch.Generator().manual_seed(seed)
    x = 0.3 + 0.4 * torch.rand(2, *SHAPE, generator=g)
    y = op.apply(x)
    return y + sigma * torch.randn(y.shape, generator=g) if sigma else y


# The likelihood code is shared by the samplers: each operator with importance sampling, one each for the
# slower SVI and NUTS (a few seconds each).
@pytest.mark.parametrize("op_name,method,kw,tol", [
    ("mask", "is", {"proposals": 20000, "rounds": 2}, (0.1, 0.15)),
    ("down", "is", {"proposals": 20000, "rounds": 2}, (0.1, 0.15)),
    ("gray", "is", {"proposals": 20000, "rounds": 2}, (0.1, 0.15)),
    ("down", "svi", {"steps": 300, "lr": 0.1, "particles": 4}, (0.1, 0.15)),
    ("gray", "nuts", {"warmup_steps": 100, "max_tree_depth": 4}, (0.15, 0.2)),
])
def test_vae_samplers_match_exact_posterior(op_name, method, kw, tol):
    W, b = weights()
    vae = linear_vae(W, b, S_VAE)
    op = ops()[op_name]
    y = op.apply(op.pinv(observe(op)))
    n = 3000 if method != "nuts" else 400
    z = ed_vae.sample_z(vae, y, op, SIGMA, None, n, method, None, **kw).double()
    means, cov = latent_posterior(op, y, W, b, S_VAE, SIGMA)
    mean_err, cov_err = errors(z, means, cov)
    assert mean_err < tol[0] and cov_err < tol[1], (mean_err, cov_err)


@pytest.mark.parametrize("op_name,method,kw,tol", [
    ("mask", "svi", {"steps": 300, "lr": 0.1, "particles": 4}, (0.1, 0.15)),
    ("gray", "svi", {"steps": 300, "lr": 0.1, "particles": 4}, (0.1, 0.15)),
    ("down", "nuts", {"warmup_steps": 100, "max_tree_depth": 4}, (0.15, 0.2)),
])
def test_gan_samplers_match_exact_posterior(op_name, method, kw, tol):
    W, b = weights()
    g = LinearGenerator(W, b)
    op = ops()[op_name]
    y = op.apply(op.pinv(observe(op)))
    n = 3000 if method != "nuts" else 400
    z = ed_gan.sample_z(g, y, op, SIGMA, None, n, method, None, **kw).double()
    means, cov = latent_posterior(op, y, W, b, 0.0, SIGMA)
    mean_err, cov_err = errors(z, means, cov)
    assert mean_err < tol[0] and cov_err < tol[1], (mean_err, cov_err)


@pytest.mark.parametrize("method,op_name,sigma,kw", [
    ("dps", "down", SIGMA, {"prior_var": 0.09}),
    ("dps", "mask", SIGMA, {"prior_var": 0.09}),
    ("ddnm", "down", 0.0, {}),
    ("ddnm", "gray", 0.0, {}),
    ("repaint", "mask", 0.0, {"resample": 2}),
])
def test_ddpm_samplers_match_exact_posterior(method, op_name, sigma, kw):
    ddpm, m = gaussian_ddpm(v=0.09)
    op = ops()[op_name]
    y = op.apply(op.pinv(observe(op, sigma=sigma)))
    x = (ed_diffusion.sample_x(ddpm, y, op, sigma, None, 3000, method, **kw) + 1) / 2  # (S, B, C, H, W)
    means, cov = pixel_posterior(op, y, ((m + 1) / 2).double().reshape(1, -1), 0.09 / 4, sigma)
    mean_err, cov_err = errors(x.double().flatten(2), means, cov)
    assert mean_err < 0.1 and cov_err < 0.15, (mean_err, cov_err)


def test_dps_chung_step_pulls_towards_the_observation():
    """DPS's own step (no exactness claim): the residual ||A x - y|| falls well below the prior's."""
    ddpm, _ = gaussian_ddpm(v=0.09)
    op = ops()["down"]
    y = observe(op, sigma=0.0)

    def rms(zeta):
        x = (ed_diffusion.sample_x(ddpm, y, op, 0.0, None, 200, "dps", dps_step="chung", zeta=zeta) + 1) / 2
        return (op.apply(x) - y).pow(2).mean().sqrt().item()

    free, guided = rms(0.0), rms(0.5)
    assert guided < 0.3 * free, (guided, free)


def test_svi_restarts_cover_both_modes():
    """y = z^2 + noise with y = 1: modes z = +-1 of equal mass. Restarts weighted by their ELBO sample both,
    about half each (tolerance 0.2 on the fraction, about 2 s.d. of 32 restarts; 2,000 draws)."""
    from probgen.editing.latent import LatentProblem, gaussian_log_lik, svi

    y = torch.ones(1, 1, 1, 1)
    prob = LatentProblem(dim=1, batch=1, like=y, decode=lambda z: z[..., None, None],
                         log_lik=lambda z: gaussian_log_lik((z * z)[..., None, None], torch.tensor(0.01), y))
    info = {}
    z = svi(prob, 2000, steps=100, lr=0.05, restarts=32, info=info)
    assert z.shape == (2000, 1, 1)
    assert abs((z > 0).float().mean().item() - 0.5) < 0.2, info["restart_weights"]
    assert (z.abs().mean() - 1).abs() < 0.1
