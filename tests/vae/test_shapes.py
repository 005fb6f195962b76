"""Shapes for every architecture x likelihood x image size (1 and 3 channels; 8x8, 28x28, 32x32)."""

import pyro
import pytest
import torch
from pyro.infer import SVI, Trace_ELBO

from probgen.vae import VAE, Autoencoder, FastTrace_ELBO, JointOptim, list_archs, list_likelihoods

SHAPES = [(c, s, s) for c in (1, 3) for s in (8, 28, 32)]


def _images(shape, likelihood, n=3):
    x = torch.rand(n, *shape)
    return torch.bernoulli(x) if likelihood == "bernoulli" else x


@pytest.mark.parametrize("x_shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("likelihood", list_likelihoods())
@pytest.mark.parametrize("arch", list_archs())
def test_shapes(arch, likelihood, x_shape):
    vae = VAE(x_shape=x_shape, z_dim=4, hidden=16, likelihood=likelihood, arch=arch, conv_channels=(4, 8))
    x = _images(x_shape, likelihood)
    loc, scale = vae.encode(x)
    assert loc.shape == scale.shape == (3, 4) and (scale > 0).all()
    assert vae.decode(loc).shape == (3, *x_shape)
    raw = vae.decode(loc, raw=True)
    assert raw.shape == (3, vae.likelihood.params_per_channel * x_shape[0], *x_shape[1:])
    for images in (vae.sample(5), vae.sample(5, mean=False), vae.reconstruct(x)):
        assert images.shape[1:] == x_shape and images.min() >= 0 and images.max() <= 1
    assert vae.sample(5).shape == (5, *x_shape)
    assert vae.log_likelihood(x, num_samples=7, chunk_size=4).shape == (3,)
    assert vae.elbo(x, num_samples=2).shape == (3,)
    svi = SVI(vae.model, vae.guide, JointOptim.adam(1e-3), FastTrace_ELBO())
    assert torch.isfinite(torch.tensor(svi.step(x)))
    ae = Autoencoder.like(vae)
    assert ae.encode(x).shape == (3, 4) and ae.reconstruct(x).shape == x.shape


@pytest.mark.parametrize("arch", list_archs())
def test_conditional_shapes(arch):
    vae = VAE(x_shape=(1, 28, 28), z_dim=3, hidden=16, arch=arch, num_classes=10, conv_channels=(4, 8))
    x, y = torch.bernoulli(torch.rand(4, 1, 28, 28)), torch.tensor([0, 3, 9, 3])
    assert vae.encode(x, y)[0].shape == (4, 3)
    assert vae.sample(6, y=7).shape == (6, 1, 28, 28)
    assert vae.sample(4, y=y).shape == (4, 1, 28, 28)
    assert vae.reconstruct(x, y).shape == x.shape
    assert vae.log_likelihood(x, y, num_samples=5).shape == (4,)
    loss = SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": 1e-3}), Trace_ELBO()).step(x, y)
    assert loss > 0


def test_decode_leading_dims():
    vae = VAE(x_shape=(1, 8, 8), z_dim=2, hidden=8)
    assert vae.decode(torch.zeros(5, 3, 2)).shape == (5, 3, 1, 8, 8)
    assert vae.decode(torch.zeros(2)).shape == (1, 8, 8)


def test_linear_nets_and_deeper_mlp():
    assert VAE(x_shape=(1, 8, 8), z_dim=2, hidden=()).sample(2).shape == (2, 1, 8, 8)
    vae = VAE(x_shape=(1, 8, 8), z_dim=2, hidden=(32, 16))
    assert [m.out_features for m in vae.encoder.body if hasattr(m, "out_features")] == [32, 16]
    assert [m.out_features for m in vae.decoder.body if hasattr(m, "out_features")] == [16, 32]
