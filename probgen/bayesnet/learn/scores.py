"""Decomposable scores of a structure given data (log-likelihood, BIC, BDeu), used to choose a structure.

Each score is a sum over nodes of a local score that depends only on the node's counts given its parents,
``N[parent configuration, state]``, so a search changes one or two terms per move.

References: G. Schwarz, "Estimating the dimension of a model", Annals of Statistics 6 (1978) (BIC);
D. Heckerman, D. Geiger, D. M. Chickering, "Learning Bayesian networks: the combination of knowledge and
statistical data", Machine Learning 20 (1995) (BDeu); D. Koller and N. Friedman, Probabilistic Graphical
Models (2009), section 18.3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from probgen.bayesnet.learn.data import DataTable, as_table, structure_parents

__all__ = ["local_score", "score"]


def local_score(table: DataTable, node: str, parents, score: str = "bic",
                equivalent_sample_size: float = 10.0) -> float:
    """A node's term of a decomposable score given its parents: "loglik", "bic" or "bdeu"."""
    counts = table.counts(node, list(parents))  # (*parent_cards, card)
    q, r = math.prod(counts.shape[:-1]), counts.shape[-1]
    counts = counts.reshape(q, r)
    if score in ("loglik", "bic"):
        ll = torch.xlogy(counts, counts).sum() - torch.xlogy(counts.sum(-1), counts.sum(-1)).sum()
        penalty = 0.5 * math.log(table.num_rows) * q * (r - 1) if score == "bic" else 0.0
        return float(ll) - penalty
    if score == "bdeu":
        a_cell, a_row = equivalent_sample_size / (q * r), equivalent_sample_size / q
        lg = torch.lgamma
        cell = (lg(counts + a_cell) - math.lgamma(a_cell)).sum()
        row = (math.lgamma(a_row) - lg(counts.sum(-1) + a_row)).sum()
        return float(cell + row)
    raise ValueError(f"unknown score {score!r}; use 'bic', 'bdeu' or 'loglik'")


def score(structure, data, *, score: str = "bic", states: Mapping | None = None,
          equivalent_sample_size: float = 10.0) -> float:
    """The score of a whole structure (the sum of its nodes' local scores); higher is better.

    Args:
        structure: an ``nx.DiGraph`` over the data's columns, or a BayesNet.
        data: a ``DataTable``, a dict node -> column or a DataFrame.
        score: "bic" (default), "bdeu" or "loglik".
    """
    table = as_table(data, states)
    graph, parents = structure_parents(structure, table)
    return sum(local_score(table, n, parents[n], score, equivalent_sample_size) for n in graph.nodes)
