"""Learning a network's tables from data: maximum likelihood or Dirichlet (BDeu, K2) pseudo-counts.

Data is a table of complete rows (see ``data.py``); every estimate comes from the counts
``N[parent configuration, state]``: ``P(x | u) = (N[u, x] + a[u, x]) / (N[u] + sum_x a[u, x])`` with
pseudo-counts ``a`` of the chosen prior.

References: D. Heckerman, D. Geiger, D. M. Chickering, "Learning Bayesian networks: the combination of
knowledge and statistical data", Machine Learning 20 (1995) (BDeu); D. Koller and N. Friedman,
Probabilistic Graphical Models (2009), sections 17.2-17.4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
import torch

from probgen.bayesnet.learn.data import as_table, structure_parents
from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.network import BayesNet

__all__ = ["fit_parameters"]


def _pseudo_counts(prior: str, card: int, parent_cards, equivalent_sample_size: float = 10.0,
                  alpha=None) -> torch.Tensor | float:
    """Dirichlet pseudo-counts per table cell: 0 ("mle"), ESS / (q r) ("bdeu"), 1 ("k2") or ``alpha``."""
    q = math.prod(parent_cards)
    if prior == "mle":
        return 0.0
    if prior == "bdeu":
        return equivalent_sample_size / (q * card)
    if prior == "k2":
        return 1.0
    if prior == "dirichlet":
        if alpha is None:
            raise ValueError("prior='dirichlet' needs `pseudo_counts` (a number or a tensor per node)")
        return alpha
    raise ValueError(f"unknown prior {prior!r}; use 'mle', 'bdeu', 'k2' or 'dirichlet'")


def fit_parameters(structure, data, *, states: Mapping | None = None, prior: str = "mle",
                   equivalent_sample_size: float = 10.0, pseudo_counts=None):
    """Estimate every CPT of a given structure from complete data.

    Args:
        structure: an ``nx.DiGraph`` over the data's columns, or a BayesNet (its graph, states and parent
            order are kept; only the tables are re-estimated).
        data: a ``DataTable``, a dict node -> column or a pandas DataFrame (see ``data.py``).
        states: dict node -> state names (default: a BayesNet's, else inferred from the data).
        prior: "mle" (maximum likelihood; a parent configuration never seen gets a uniform row), "bdeu"
            (pseudo-count ESS / (q r) per cell), "k2" (one per cell) or "dirichlet" (``pseudo_counts``: a
            number, or dict node -> number or tensor of the CPT's shape).
        equivalent_sample_size: the ESS of "bdeu".

    Returns:
        A new BayesNet: P(x | u) = (N[u, x] + a[u, x]) / (N[u] + sum_x a[u, x]).
    """
    if isinstance(structure, BayesNet) and states is None:
        states = {n: structure.states(n) for n in structure.nodes}
    table = as_table(data, states)
    graph, parents = structure_parents(structure, table)
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes(data=True))
    g.add_edges_from(graph.edges)
    for n in graph.nodes:
        counts = table.counts(n, parents[n])  # (*parent_cards, card)
        alpha = pseudo_counts.get(n) if isinstance(pseudo_counts, Mapping) else pseudo_counts
        a = _pseudo_counts(prior, counts.shape[-1], counts.shape[:-1], equivalent_sample_size, alpha)
        probs = counts + torch.as_tensor(a, dtype=torch.float64)
        empty = probs.sum(-1, keepdim=True) <= 0
        probs = torch.where(empty, torch.ones_like(probs), probs)  # unseen configuration: uniform
        g.nodes[n]["cpd"] = TabularCPD(table.states[n], probs, parents[n], normalize=True)
    return BayesNet(g)
