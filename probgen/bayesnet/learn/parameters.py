"""Learning a network's tables from complete data: maximum likelihood or Dirichlet (BDeu, K2) pseudo-counts.

Every estimate comes from the counts ``N[parent configuration, state]`` (observed, or expected under EM):
``P(x | u) = (N[u, x] + a[u, x]) / (N[u] + sum_x a[u, x])`` with pseudo-counts ``a`` of the chosen prior;
a parent configuration with neither counts nor pseudo-counts gets a uniform row.

References: D. Heckerman, D. Geiger, D. M. Chickering, "Learning Bayesian networks: the combination of
knowledge and statistical data", Machine Learning 20 (1995) (BDeu); D. Koller and N. Friedman,
Probabilistic Graphical Models (2009), sections 17.2-17.4.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import networkx as nx
import numpy as np
import torch

from probgen.bayesnet.learn.data import as_table, structure_parents
from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.network import BayesNet
from probgen.checks import check_choice, check_float

__all__ = ["fit_parameters", "PRIORS", "check_prior", "pseudo_counts_for", "estimate_table"]

PRIORS = ("mle", "bdeu", "k2", "dirichlet")


def check_prior(prior: str, equivalent_sample_size, pseudo_counts) -> tuple[str, float]:
    """Validate the prior's arguments (before any data is read): ``(prior, equivalent_sample_size)``.

    Raises a ValueError/TypeError naming the argument: an unknown prior, an equivalent sample size that
    is not a positive number, ``pseudo_counts`` missing for "dirichlet", given for another prior, or
    negative anywhere.
    """
    check_choice("prior", prior, PRIORS)
    ess = check_float("equivalent_sample_size", equivalent_sample_size, 0, low_open=True)
    if prior == "dirichlet" and pseudo_counts is None:
        raise ValueError("prior='dirichlet' needs `pseudo_counts`: a number, or a dict node -> number or "
                         "table of the CPT's shape")
    if prior != "dirichlet" and pseudo_counts is not None:
        raise ValueError(f"`pseudo_counts` is only used with prior='dirichlet', not prior={prior!r}")
    if pseudo_counts is not None:
        items = pseudo_counts.items() if isinstance(pseudo_counts, Mapping) else [(None, pseudo_counts)]
        for node, a in items:
            _check_alpha(node, a)
    return prior, ess


def _check_alpha(node, a) -> None:
    name = "pseudo_counts" if node is None else f"pseudo_counts[{node!r}]"
    if isinstance(a, numbers.Real) and not isinstance(a, bool):
        check_float(name, a, 0)
        return
    try:
        t = a.double() if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a non-negative number or a table of them, got "
                        f"{type(a).__name__}") from None
    if t.dtype == torch.bool or not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"`{name}` must hold finite non-negative pseudo-counts, got {a!r}")


def pseudo_counts_for(prior: str, node: str, shape, equivalent_sample_size: float = 10.0,
                      pseudo_counts=None) -> torch.Tensor:
    """The Dirichlet pseudo-counts of one CPT, float64 of ``shape`` = ``(*parent_cards, card)``:
    0 ("mle"), ESS / (q r) ("bdeu"), 1 ("k2") or the given ``pseudo_counts`` ("dirichlet")."""
    shape = tuple(shape)
    q, r = math.prod(shape[:-1]), shape[-1]
    if prior == "mle":
        return torch.zeros(shape, dtype=torch.float64)
    if prior == "bdeu":
        return torch.full(shape, equivalent_sample_size / (q * r), dtype=torch.float64)
    if prior == "k2":
        return torch.ones(shape, dtype=torch.float64)
    a = pseudo_counts.get(node, 0.0) if isinstance(pseudo_counts, Mapping) else pseudo_counts
    a = torch.as_tensor(a, dtype=torch.float64)
    try:
        return torch.broadcast_to(a, shape).clone()
    except RuntimeError:
        raise ValueError(f"`pseudo_counts[{node!r}]` has shape {tuple(a.shape)}; the CPT of {node!r} has "
                         f"shape {shape} (parents first, the node's states last)") from None


def estimate_table(counts: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``(counts + alpha)`` with each row normalised; rows with nothing in them uniform. ``(..., card)``."""
    probs = counts + alpha
    sums = probs.sum(-1, keepdim=True)
    return torch.where(sums > 0, probs / sums.clamp(min=1e-300), 1.0 / probs.shape[-1])


def fit_parameters(structure, data, *, states: Mapping | None = None, prior: str = "mle",
                   equivalent_sample_size: float = 10.0, pseudo_counts=None):
    """Estimate every CPT of a given structure from complete data.

    Args:
        structure: an ``nx.DiGraph`` over the data's columns, or a BayesNet (its graph, states and parent
            order are kept; only the tables are re-estimated).
        data: a ``DataTable``, a dict node -> column, a pandas DataFrame or a CSV path (see ``data.py``).
        states: dict node -> state names (default: a BayesNet's, else inferred from the data).
        prior: "mle" (maximum likelihood; a parent configuration never seen gets a uniform row), "bdeu"
            (pseudo-count ESS / (q r) per cell), "k2" (one per cell) or "dirichlet" (``pseudo_counts``: a
            number, or dict node -> number or tensor of the CPT's shape).
        equivalent_sample_size: the ESS of "bdeu" (> 0).

    Returns:
        A new BayesNet: P(x | u) = (N[u, x] + a[u, x]) / (N[u] + sum_x a[u, x]).
    """
    prior, ess = check_prior(prior, equivalent_sample_size, pseudo_counts)
    if isinstance(structure, BayesNet) and states is None:
        states = {n: structure.states(n) for n in structure.nodes}
    table = as_table(data, states)
    table.require_complete("fit_parameters")
    graph, parents = structure_parents(structure, table)
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes(data=True))
    g.add_edges_from(graph.edges)
    for n in graph.nodes:
        counts = table.counts(n, parents[n])  # (*parent_cards, card)
        alpha = pseudo_counts_for(prior, n, counts.shape, ess, pseudo_counts)
        g.nodes[n]["cpd"] = TabularCPD(table.states[n], estimate_table(counts, alpha), parents[n],
                                       parent_cards=counts.shape[:-1])
    return BayesNet(g)
