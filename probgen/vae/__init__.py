"""Variational autoencoders written the Pyro way (model/guide pairs trained with SVI).

``VAE`` (model, guide, encode/decode/sample/reconstruct, IWAE ``log_likelihood``, ``inpaint``),
``Autoencoder`` (the same networks, deterministic), ``VAEConfig``, the fast SVI pieces ``FastTrace_ELBO``
and ``JointOptim``, and ``train_vae`` / ``VAETrainer``. Names load on first use (no torch on import).

Examples:
    >>> from probgen.vae import VAE
    >>> vae = VAE(x_shape=(1, 28, 28), z_dim=50, hidden=400, likelihood="bernoulli", arch="mlp")
    >>> vae.sample(16).shape
    torch.Size([16, 1, 28, 28])
"""

from probgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "VAE": "probgen.vae.model",
    "Autoencoder": "probgen.vae.autoencoder",
    "FastTrace_ELBO": "probgen.vae.fast",
    "FastTraceMeanField_ELBO": "probgen.vae.fast",
    "JointOptim": "probgen.vae.fast",
    "VAEConfig": "probgen.vae.config",
    "get_likelihood": "probgen.vae.likelihoods",
    "list_likelihoods": "probgen.vae.likelihoods",
    "list_archs": "probgen.vae.nets",
    "register_arch": "probgen.vae.nets",
    "TrainingDiverged": "probgen.errors",
    "VAETrainer": "probgen.vae.train",
    "train_vae": "probgen.vae.train",
})
