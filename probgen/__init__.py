"""probgen: probabilistic generative models on Pyro and PyTorch.

Model families live in subpackages: ``probgen.vae`` (variational autoencoders trained by SVI),
``probgen.bayesnet`` (Bayesian networks compiled from networkx DAGs) and ``probgen.gan`` (generative
adversarial networks). Shared utilities are re-exported here; they load on first use, so that
``import probgen`` (and ``probgen --help``) does not import torch.
"""

from probgen._lazy import lazy_exports
from probgen._version import __version__

__getattr__, __dir__, _names = lazy_exports(__name__, {
    "get_device": "probgen.device",
    "list_datasets": "probgen.data",
    "load_dataset": "probgen.data",
    "seed": "probgen.seeding",
})
__all__ = ["__version__", *_names]
