"""Bayesian networks: a networkx DAG whose nodes carry conditional probability tables, compiled to Pyro.

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
from probgen.bayesnet.network import BayesNet

__all__ = ["BIFError", "BayesNet", "TabularCPD", "bif_string", "read_bif", "write_bif"]
