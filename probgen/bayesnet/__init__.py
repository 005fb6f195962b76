"""Bayesian networks: a networkx DAG whose nodes carry conditional probability tables, compiled to Pyro.

A network is a graph (from domain knowledge, or learned from data: model selection) plus one conditional
distribution per node; the joint is ``prod_d P(X_d | parents(X_d))``.

The package is layered (each layer imports only the ones above it in this list):

- ``model``: the network itself (``BayesNet``, ``TabularCPD``, graph checks), the one state encoder, the
  Pyro program, forward sampling and log-densities.
- ``io``: BIF files (reader, writer) and the bundled networks.
- ``exact``: exact inference (compiled network, elimination order, plans, contraction kernels, evidence).
- ``approx``: likelihood weighting.
- ``learn``: parameters, scores and structure from data.
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

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "BayesNet": "probgen.bayesnet.model.network",
    "TabularCPD": "probgen.bayesnet.model.cpd",
    "StateEncoder": "probgen.bayesnet.model.encoding",
    "BIFError": "probgen.bayesnet.io.bif_parser",
    "bif_string": "probgen.bayesnet.io.bif",
    "read_bif": "probgen.bayesnet.io.bif",
    "write_bif": "probgen.bayesnet.io.bif",
    "list_networks": "probgen.bayesnet.io.bundled",
    "load_network": "probgen.bayesnet.io.bundled",
    "InferenceTooLargeError": "probgen.bayesnet.exact.queries",
    "LikelihoodWeighting": "probgen.bayesnet.approx.weighting",
    "DataTable": "probgen.bayesnet.learn.data",
    "fit_parameters": "probgen.bayesnet.learn.parameters",
    "score": "probgen.bayesnet.learn.scores",
    "hill_climb": "probgen.bayesnet.learn.structure",
    "learn_network": "probgen.bayesnet.learn.structure",
})
