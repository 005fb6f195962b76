"""A VAE whose decoder is linear-Gaussian, x | z ~ N(W z + b, s^2 I), z ~ N(0, I), has closed forms:
log p(x) = log N(x; b, W W^T + s^2 I), the posterior p(z | x) = N(S W^T (x - b) / s^2, S) with
S = (I + W^T W / s^2)^-1, and E[x_m | x_o] by Gaussian conditioning. The encoder is set to the exact
posterior mean with 1.5 times the posterior's marginal standard deviations (a diagonal q wider than the
posterior, so importance weights stay bounded and ELBO < log p(x) by exactly KL(q || p(z | x))). These
are the oracles; tolerances are stated per test.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import MultivariateNormal

from probgen.vae import VAE

D, Z, S = 6, 2, 0.5
WIDEN = 1.5  # q's standard deviations / the posterior's


@pytest.fixture
def toy():
    g = torch.Generator().manual_seed(0)
    W, b = torch.randn(D, Z, generator=g), 0.3 * torch.randn(D, generator=g)
    vae = VAE(x_shape=(1, 2, 3), z_dim=Z, hidden=(), likelihood="gaussian", min_scale=0.01)
    post_cov = torch.linalg.inv(torch.eye(Z) + W.T @ W / S**2)  # (Z, Z)
    gain = post_cov @ W.T / S**2  # (Z, D): posterior mean = gain @ (x - b)
    with torch.no_grad():
        out = vae.decoder.out  # Linear(Z, 2*D): rows [0, D) loc, [D, 2D) pre-softplus scale
        out.weight.zero_()
        out.weight[:D] = W
        out.bias[:D] = b
        out.bias[D:] = torch.log(torch.expm1(torch.tensor(S - 0.01)))  # softplus^-1(S - min_scale)
        heads = vae.encoder.heads
        heads.loc.weight.copy_(gain)
        heads.loc.bias.copy_(-gain @ b)
        heads.logvar.weight.zero_()
        heads.logvar.bias.copy_((WIDEN**2 * post_cov.diagonal()).log())
    marginal = MultivariateNormal(b, W @ W.T + S**2 * torch.eye(D))
    x = marginal.sample((20,), ).reshape(20, 1, 2, 3)
    return vae, x, marginal, post_cov


def test_decoder_is_the_linear_gaussian_model(toy):
    vae, x, marginal, _ = toy
    z = torch.randn(5, Z)
    loc, scale = vae.likelihood.loc_scale(vae.decode(z, raw=True))
    torch.testing.assert_close(scale, torch.full_like(scale, S))
    torch.testing.assert_close(loc.reshape(5, D), z @ vae.decoder.out.weight[:D].T + marginal.loc)


def test_iwae_converges_to_log_px_and_elbo_is_below(toy):
    vae, x, marginal, post_cov = toy
    exact = marginal.log_prob(x.reshape(-1, D))  # (20,)
    iwae = {k: vae.log_likelihood(x, num_samples=k) for k in (1, 10, 20000)}
    # k=20,000: the IWAE bias is O(Var(w)/k); observed mean |error| ~3e-3 nats. Tolerance 0.01 nats.
    assert (iwae[20000] - exact).abs().mean() < 0.01
    # the bound tightens with k: k=1 is the ELBO (~KL = 0.45 nats below), k=10 within ~0.05 nats
    assert iwae[1].mean() < iwae[10].mean() - 0.2
    assert iwae[10].mean() < exact.mean() + 0.05
    # ELBO = log p(x) - KL(q || posterior); the KL is the same for every x (q's covariance is fixed).
    q_cov = torch.diag(WIDEN**2 * post_cov.diagonal())
    kl = 0.5 * (torch.trace(torch.linalg.solve(post_cov, q_cov)) - Z + torch.logdet(post_cov)
                - torch.logdet(q_cov))
    assert kl > 0.1
    elbo = vae.elbo(x, num_samples=4000)  # Monte-Carlo sd of the mean over 4000 draws ~0.02 nats
    assert (elbo < exact).all()
    assert (elbo - (exact - kl)).abs().max() < 0.08


def test_inpaint_matches_gaussian_conditioning(toy):
    vae, x, marginal, _ = toy
    mask = torch.tensor([True, False, True, True, False, True]).reshape(1, 1, 2, 3)
    o, m = mask.reshape(-1), ~mask.reshape(-1)
    cov, mu = marginal.covariance_matrix, marginal.loc
    xf = x.reshape(-1, D)
    cond = mu[m] + (xf[:, o] - mu[o]) @ torch.linalg.solve(cov[o][:, o], cov[o][:, m])  # (20, 2)
    filled = vae.inpaint(x, mask, num_samples=20000, rounds=2).reshape(-1, D)
    torch.testing.assert_close(filled[:, o], xf[:, o])  # observed pixels untouched
    # inpaint clamps its answer to [0, 1]; compare where the conditional mean lies inside.
    inside = (cond > 0.01) & (cond < 0.99)
    assert inside.sum() >= 5
    # SNIS with 20,000 draws: observed max error 0.007-0.016 over 3 seeds; tolerance 0.05.
    assert (filled[:, m][inside] - cond[inside]).abs().max() < 0.05


def test_softplus_inverse_used_above():
    assert float(F.softplus(torch.log(torch.expm1(torch.tensor(0.49))))) == pytest.approx(0.49)
