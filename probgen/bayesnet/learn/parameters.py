"""Learning a network's tables from data: maximum likelihood or Dirichlet (BDeu, K2) pseudo-counts, and
the decomposable scores (log-likelihood, BIC, BDeu) used to choose a structure.

Data is a table of complete rows: a dict node -> column (an int64 tensor of state indices, or a list/array
of state names) or a pandas DataFrame. Every estimate comes from the counts
``N[parents config, state]``, made with one ``torch.bincount`` per node.

References: D. Heckerman, D. Geiger, D. M. Chickering, "Learning Bayesian networks: the combination of
knowledge and statistical data", Machine Learning 20 (1995) (BDeu); G. Schwarz, "Estimating the dimension
of a model", Annals of Statistics 6 (1978) (BIC); D. Koller and N. Friedman, Probabilistic Graphical
Models (2009), sections 17.2-17.4 and 18.3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
import numpy as np
import torch

from probgen.bayesnet.cpd import TabularCPD, check_states


class DataTable:
    """Complete discrete data, encoded once: ``columns[n]`` is an int64 tensor (N,) of state indices.

    Args:
        data: dict node -> column, or a pandas DataFrame (one column per node).
        states: optional dict node -> list of state names. Columns of names default to their sorted
            distinct values; int tensors to ``range(max + 1)``.
    """

    def __init__(self, data, states: Mapping | None = None) -> None:
        if hasattr(data, "columns") and hasattr(data, "to_numpy"):
            data = {str(c): data[c].to_numpy() for c in data.columns}
        if not isinstance(data, Mapping) or not data:
            raise TypeError(f"data must be a non-empty dict node -> column or a pandas DataFrame, "
                            f"got {type(data).__name__}")
        states = dict(states or {})
        self.nodes: list[str] = [str(n) for n in data]
        self.states: dict[str, list] = {}
        self.columns: dict[str, torch.Tensor] = {}
        for n, col in data.items():
            self.columns[str(n)], self.states[str(n)] = _encode(str(n), col, states.get(n))
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) != 1:
            sizes = {n: len(c) for n, c in self.columns.items()}
            raise ValueError(f"data columns have different lengths: {sizes}")
        self.num_rows = lengths.pop()
        if self.num_rows == 0:
            raise ValueError("data has no rows")

    @property
    def cards(self) -> dict[str, int]:
        return {n: len(s) for n, s in self.states.items()}

    def counts(self, node: str, parents) -> torch.Tensor:
        """Counts N[parent config, state], float64 of shape (*parent_cards, card)."""
        cards = [len(self.states[p]) for p in parents] + [len(self.states[node])]
        flat = torch.zeros(self.num_rows, dtype=torch.int64)
        for p, c in zip([*parents, node], cards):
            flat = flat * c + self.columns[p]  # (N,)
        return torch.bincount(flat, minlength=math.prod(cards)).to(torch.float64).reshape(cards)


def _encode(n: str, col, states) -> tuple[torch.Tensor, list]:
    if isinstance(col, torch.Tensor):
        if col.is_floating_point() or col.is_complex() or col.dtype == torch.bool:
            raise TypeError(f"data column {n!r}: a tensor must hold integer state indices, got {col.dtype}")
        idx = col.reshape(-1).to(torch.int64)
        if idx.numel() and idx.min() < 0:
            raise ValueError(f"data column {n!r}: negative state index {int(idx.min())}")
        top = int(idx.max()) + 1 if idx.numel() else 1
        states = check_states(states if states is not None else list(range(top)), f"states of {n!r}")
        if top > len(states):
            raise ValueError(f"data column {n!r}: state index {top - 1} is out of range for states {states}")
        return idx, states
    arr = np.asarray(col if isinstance(col, np.ndarray) else list(col), dtype=object).reshape(-1)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in arr.tolist()):
        raise ValueError(f"data column {n!r} has missing values; learning needs complete rows")
    values = [v.item() if hasattr(v, "item") else v for v in arr.tolist()]
    if states is None:
        states = sorted(set(values), key=lambda v: (str(type(v)), v))
    states = check_states(states, f"states of {n!r}")
    index = {s: i for i, s in enumerate(states)}
    unknown = sorted({repr(v) for v in values if v not in index})
    if unknown:
        raise ValueError(f"data column {n!r} has values {unknown[:5]} that are not among its states {states}")
    return torch.tensor([index[v] for v in values], dtype=torch.int64), states


def _table(data, states) -> DataTable:
    return data if isinstance(data, DataTable) else DataTable(data, states)


def _structure(structure, table: DataTable) -> tuple[nx.DiGraph, dict[str, list[str]]]:
    """The graph and each node's parent order (a BayesNet's CPT order, else the data's column order)."""
    from probgen.bayesnet.network import BayesNet

    if isinstance(structure, BayesNet):
        return structure.graph, {n: structure.parents(n) for n in structure.nodes}
    if not isinstance(structure, nx.DiGraph):
        raise TypeError(f"structure must be an nx.DiGraph or a BayesNet, got {type(structure).__name__}")
    missing = [n for n in structure.nodes if n not in table.columns]
    if missing:
        raise ValueError(f"nodes {missing} of the structure have no column in the data "
                         f"(columns: {table.nodes})")
    pos = {n: i for i, n in enumerate(table.nodes)}
    return structure, {n: sorted(structure.predecessors(n), key=pos.__getitem__) for n in structure.nodes}


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
        data: dict node -> column or a pandas DataFrame (see :class:`DataTable`).
        states: dict node -> state names (default: a BayesNet's, else inferred from the data).
        prior: "mle" (maximum likelihood; a parent configuration never seen gets a uniform row), "bdeu"
            (pseudo-count ESS / (q r) per cell), "k2" (one per cell) or "dirichlet" (``pseudo_counts``: a
            number, or dict node -> number or tensor of the CPT's shape).
        equivalent_sample_size: the ESS of "bdeu".

    Returns:
        A new BayesNet: P(x | u) = (N[u, x] + a[u, x]) / (N[u] + sum_x a[u, x]).
    """
    from probgen.bayesnet.network import BayesNet

    if isinstance(structure, BayesNet) and states is None:
        states = {n: structure.states(n) for n in structure.nodes}
    table = _table(data, states)
    graph, parents = _structure(structure, table)
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


# --------------------------------------------------------------------------------------------- scores
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
    """The score of a whole structure (the sum of its nodes' local scores); higher is better."""
    table = _table(data, states)
    graph, parents = _structure(structure, table)
    return sum(local_score(table, n, parents[n], score, equivalent_sample_size) for n in graph.nodes)
