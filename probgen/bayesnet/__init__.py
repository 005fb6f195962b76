"""Bayesian networks: a networkx DAG whose nodes carry conditional probability tables, compiled to Pyro.

A network is a graph (from domain knowledge, or learned from data: model selection) plus one conditional
distribution per node; the joint is ``prod_d P(X_d | parents(X_d))``.

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

from probgen.bayesnet.bif import BIFError, bif_string, read_bif, write_bif
from probgen.bayesnet.cpd import TabularCPD
from probgen.bayesnet.learn import DataTable, fit_parameters, score
from probgen.bayesnet.network import BayesNet
from probgen.bayesnet.networks import list_networks, load_network
from probgen.bayesnet.structure import hill_climb, learn_network

__all__ = [
    "BIFError",
    "BayesNet",
    "DataTable",
    "TabularCPD",
    "bif_string",
    "fit_parameters",
    "hill_climb",
    "learn_network",
    "list_networks",
    "load_network",
    "read_bif",
    "score",
    "write_bif",
]
