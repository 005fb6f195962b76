"""Bayesian networks: a networkx DAG whose nodes carry their conditionals (tables, Gaussians, neural
networks), compiled to Pyro.

A network is a graph (from domain knowledge, or learned from data: model selection) plus one conditional
distribution per node; the joint is ``prod_d P(X_d | parents(X_d))``.

The package is layered (each layer imports only the ones above it in this list):

- ``model``: the network itself (``BayesNet``, ``TabularCPD``, graph checks), the one state encoder, the
  Pyro program, forward sampling and log-densities.
- ``io``: BIF files (reader, writer) and the bundled networks.
- ``exact``: exact inference (compiled network, elimination order, plans, contraction kernels, evidence).
- ``approx``: likelihood weighting.
- ``learn``: parameters, scores and structure from data.
- ``hybrid``: the engine behind networks with ``GaussianCPD``, ``SoftmaxCPD`` or ``NeuralCPD`` nodes
  (``BayesNet(g)`` builds a ``HybridBayesNet`` for them): exact Gaussian and CLG inference, likelihood
  weighting, NUTS, least squares and SVI.
- ``cli``, ``demo``, ``draw``: the command line, the demo section and matplotlib drawings.

Every name below loads on first use, so ``import probgen.bayesnet`` (and the CLI) imports no torch.

Examples:
    >>> import networkx as nx
    >>> from probgen.bayesnet import BayesNet, TabularCPD
    >>> g = nx.DiGraph([("Rain", "Wet")])
    >>> g.nodes["Rain"]["cpd"] = TabularCPD(["no", "yes"], [0.8, 0.2])
    >>> g.nodes["Wet"]["cpd"] = TabularCPD(["dry", "wet"], [[0.9, 0.1], [0.2, 0.8]], parents=["Rain"])
    >>> bn = BayesNet(g)
    >>> bn.sample(5)["Wet"].shape
    torch.Size([5])
"""

from probgen._lazy import lazy_exports
from probgen.bayesnet.approx import EXPORTS as _APPROX
from probgen.bayesnet.exact import EXPORTS as _EXACT
from probgen.bayesnet.io import EXPORTS as _IO
from probgen.bayesnet.learn import EXPORTS as _LEARN
from probgen.bayesnet.model import EXPORTS as _MODEL

# The layers' public names, less the query functions that BayesNet's methods wrap.
__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    **_MODEL, **_IO, **_LEARN,
    "InferenceTooLargeError": _EXACT["InferenceTooLargeError"],
    "LikelihoodWeighting": _APPROX["LikelihoodWeighting"],
})
