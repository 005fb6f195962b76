"""Decomposable scores of a structure given data (log-likelihood, BIC, BDeu, K2), to choose a structure.

Each score is a sum over nodes of a local score that depends only on the node's counts given its parents,
``N[parent configuration, state]``, so a search changes one or two terms per move.

References: G. Schwarz, "Estimating the dimension of a model", Annals of Statistics 6 (1978) (BIC);
D. Heckerman, D. Geiger, D. M. Chickering, "Learning Bayesian networks: the combination of knowledge and
statistical data", Machine Learning 20 (1995) (BDeu); G. F. Cooper, E. Herskovits, "A Bayesian method
for the induction of probabilistic networks from data", Machine Learning 9 (1992) (K2); D. Koller and
N. Friedman, Probabilistic Graphical Models (2009), section 18.3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.special import gammaln, xlogy

from probgen.bayesnet.learn.data import DataTable, as_table, structure_parents
from probgen.checks import check_choice, check_float

__all__ = ["local_score", "score", "counts_score", "SCORES"]

SCORES = ("bic", "bdeu", "k2", "loglik")


def counts_score(counts, score: str, num_rows: int, equivalent_sample_size: float = 10.0) -> float:
    """The local score of one family from its counts ``N[u, x]`` (tensor or array ``(*parent_cards, card)``).

    NumPy and SciPy do the arithmetic: a search scores thousands of small tables, where torch's per-call
    overhead would dominate.
    """
    counts = np.asarray(counts, dtype=np.float64)
    r = counts.shape[-1]
    counts = counts.reshape(-1, r)
    q = counts.shape[0]
    rows = counts.sum(-1)  # (q,)
    if score in ("loglik", "bic"):
        ll = float(xlogy(counts, counts).sum() - xlogy(rows, rows).sum())
        return ll - (0.5 * math.log(num_rows) * q * (r - 1) if score == "bic" else 0.0)
    if score == "bdeu":
        a_cell, a_row = equivalent_sample_size / (q * r), equivalent_sample_size / q
    elif score == "k2":
        a_cell, a_row = 1.0, float(r)
    else:
        raise ValueError(f"unknown score {score!r}; use one of {list(SCORES)}")
    cell = (gammaln(counts + a_cell) - math.lgamma(a_cell)).sum()
    row = (math.lgamma(a_row) - gammaln(rows + a_row)).sum()
    return float(cell + row)


def local_score(table: DataTable, node: str, parents, score: str = "bic",
                equivalent_sample_size: float = 10.0) -> float:
    """A node's term of a decomposable score given its parents: "bic", "bdeu", "k2" or "loglik"."""
    counts = table.counts(node, list(parents))  # (*parent_cards, card)
    return counts_score(counts, score, table.num_rows, equivalent_sample_size)


def score(structure, data, *, score: str = "bic", states: Mapping | None = None,
          equivalent_sample_size: float = 10.0) -> float:
    """The score of a whole structure (the sum of its nodes' local scores); higher is better.

    Args:
        structure: an ``nx.DiGraph`` over the data's columns, or a BayesNet.
        data: a ``DataTable``, a dict node -> column, a DataFrame or a CSV path (complete rows).
        score: "bic" (default), "bdeu", "k2" or "loglik".
        equivalent_sample_size: the ESS of "bdeu" (> 0).
    """
    check_choice("score", score, SCORES)
    ess = check_float("equivalent_sample_size", equivalent_sample_size, 0, low_open=True)
    table = as_table(data, states)
    table.require_complete("score")
    graph, parents = structure_parents(structure, table)
    return sum(local_score(table, n, parents[n], score, ess) for n in graph.nodes)
