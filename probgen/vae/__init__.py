"""Variational autoencoders written the Pyro way (model/guide pairs trained with SVI).

>>> from probgen.vae import VAE
>>> vae = VAE(x_shape=(1, 28, 28), z_dim=50, hidden=400, likelihood="bernoulli", arch="mlp")
>>> vae.sample(16).shape
torch.Size([16, 1, 28, 28])

:class:`VAE` (model, guide, encode/decode/sample/reconstruct, IWAE ``log_likelihood``, ``inpaint``),
:class:`Autoencoder` (the same networks, deterministic), :class:`VAEConfig`, the fast SVI pieces
:class:`FastTrace_ELBO` and :class:`JointOptim`, and :func:`train_vae`.
"""

from probgen.vae.autoencoder import Autoencoder
from probgen.vae.config import VAEConfig
from probgen.vae.fast import FastTrace_ELBO, FastTraceMeanField_ELBO, JointOptim
from probgen.vae.likelihoods import get_likelihood, list_likelihoods
from probgen.vae.model import VAE
from probgen.vae.nets import list_archs, register_arch
from probgen.vae.train import TrainingDiverged, train_vae

__all__ = [
    "VAE",
    "Autoencoder",
    "FastTrace_ELBO",
    "FastTraceMeanField_ELBO",
    "JointOptim",
    "VAEConfig",
    "get_likelihood",
    "list_archs",
    "list_likelihoods",
    "register_arch",
    "TrainingDiverged",
    "train_vae",
]
