"""Linear-Gaussian toys with closed-form posteriors, for the editing samplers.

* VAE: x | z ~ N(W z + b, s^2 I), z ~ N(0, I) (a linear decoder with a constant scale); y = A x + N(0,
  sigma^2): p(z | y) = N(P (AW)^T S^-1 (y - A b), P), S = s^2 A A^T + sigma^2 I, P = (I + (AW)^T S^-1 AW)^-1.
* GAN: x = (G(z) + 1) / 2 = W z + b exactly (a linear generator); the same with s = 0.
* DDPM: data N(m, v I) in the network's [-1, 1] space, with the exact noise predictor
  E[eps | x_t] = sqrt(1 - abar) (x_t - sqrt(abar) m) / (abar v + 1 - abar); in pixel space the prior is
  N((m + 1) / 2, v / 4 I) and p(x | y) follows by Gaussian conditioning.
Zero rows of A (a mask's unobserved pixels) are dropped before any inverse.
"""

import torch
from torch import nn

from probgen.diffusion import DDPM
from probgen.vae import VAE

SHAPE = (3, 2, 2)
D, Z = 12, 3


def dense(op, shape=SHAPE):
    """The rows of ``op``'s matrix that are not zero: (m, D) float64."""
    n = torch.tensor(shape).prod().item()
    A = op.apply(torch.eye(n, dtype=torch.float64).reshape(n, *shape)).reshape(n, -1).T
    return A[A.abs().sum(1) > 0]


def rows(op, y, shape=SHAPE):
    """``y`` (B, ...) restricted to the non-zero rows of ``dense(op)``: (B, m) float64."""
    n = torch.tensor(shape).prod().item()
    A = op.apply(torch.eye(n, dtype=torch.float64).reshape(n, *shape)).reshape(n, -1).T
    return y.double().reshape(len(y), -1)[:, A.abs().sum(1) > 0]


def weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.2 * torch.randn(D, Z, generator=g, dtype=torch.float64), 0.5 + 0.1 * torch.randn(
        D, generator=g, dtype=torch.float64)


def latent_posterior(op, y, W, b, s, sigma):
    """Exact p(z | y) for each image: means (B, Z) and the covariance (Z, Z)."""
    A, yr = dense(op), rows(op, y)
    AW = A @ W
    S = s**2 * A @ A.T + sigma**2 * torch.eye(len(A), dtype=torch.float64)
    P = torch.linalg.inv(torch.eye(Z, dtype=torch.float64) + AW.T @ torch.linalg.solve(S, AW))
    means = (P @ AW.T @ torch.linalg.solve(S, (yr - b @ A.T).T)).T
    return means, P


def linear_vae(W, b, s):
    vae = VAE(x_shape=SHAPE, z_dim=Z, hidden=(), likelihood="gaussian", min_scale=0.01)
    with torch.no_grad():
        out = vae.decoder.out
        out.weight.zero_()
        out.weight[:D] = W.float()
        out.bias[:D] = b.float()
        out.bias[D:] = torch.log(torch.expm1(torch.tensor(s - 0.01)))
        # the encoder: the exact p(z | x) of a fully observed x, standard deviations widened 1.5-fold
        post = torch.linalg.inv(torch.eye(Z, dtype=torch.float64) + W.T @ W / s**2)
        gain = post @ W.T / s**2
        vae.encoder.heads.loc.weight.copy_(gain.float())
        vae.encoder.heads.loc.bias.copy_((-gain @ b).float())
        vae.encoder.heads.logvar.weight.zero_()
        vae.encoder.heads.logvar.bias.copy_((2.25 * post.diagonal()).log().float())
    return vae


class LinearGenerator(nn.Module):
    """G(z) = 2 (W z + b) - 1, so the GAN's image (G + 1) / 2 is W z + b."""

    def __init__(self, W, b):
        super().__init__()
        self.latent_dim, self.channels, self.image_size, self.num_classes = Z, SHAPE[0], SHAPE[1], None
        self.lin = nn.Linear(Z, D)
        with torch.no_grad():
            self.lin.weight.copy_(W.float())
            self.lin.bias.copy_(b.float())

    def forward(self, z, y=None):
        return (2 * self.lin(z) - 1).reshape(-1, *SHAPE)


class ExactEps(nn.Module):
    def __init__(self, alpha_bar, m, v):
        super().__init__()
        self.register_buffer("ab", alpha_bar)
        self.register_buffer("m", m)
        self.v = v
        self.anchor = nn.Parameter(torch.zeros(()))  # gives the module a device and dtype

    def forward(self, x, t, y=None):
        ab = self.ab[t].view(-1, 1, 1, 1)
        return (1 - ab).sqrt() * (x - ab.sqrt() * self.m) / (ab * self.v + 1 - ab)


def gaussian_ddpm(timesteps=400, v=0.09, seed=1):
    """A DDPM whose noise predictor is exact for data N(m, v I) ([-1, 1] space); returns it and m."""
    ddpm = DDPM(x_shape=SHAPE, timesteps=timesteps, base_channels=4, channel_mults=(1,), attention=False,
                clip_denoised=False)
    m = 0.3 * torch.randn(1, *SHAPE, generator=torch.Generator().manual_seed(seed))
    ddpm.net = ExactEps(ddpm.schedule.alpha_bar, m, v)
    return ddpm, m


def pixel_posterior(op, y, mu, c, sigma):
    """Exact p(x | y) for prior N(mu, c I) on flattened pixels: means (B, D), covariance (D, D)."""
    A, yr = dense(op), rows(op, y)
    S = c * A @ A.T + sigma**2 * torch.eye(len(A), dtype=torch.float64)
    K = c * A.T @ torch.linalg.inv(S)  # (D, m)
    means = mu + (yr - mu @ A.T) @ K.T
    cov = c * torch.eye(D, dtype=torch.float64) - K @ A * c
    return means, cov
