"""probgen: probabilistic generative models on Pyro and PyTorch.

Model families live in subpackages: :mod:`probgen.vae` (variational autoencoders trained by SVI),
:mod:`probgen.bayesnet` (Bayesian networks compiled from networkx DAGs) and :mod:`probgen.gan`
(generative adversarial networks). Shared utilities are re-exported here.
"""

from probgen._version import __version__
from probgen.data import list_datasets, load_dataset
from probgen.device import get_device
from probgen.seeding import seed

__all__ = ["__version__", "get_device", "list_datasets", "load_dataset", "seed"]
