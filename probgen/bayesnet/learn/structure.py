"""Structure learning (model selection): greedy hill climbing over DAGs with a decomposable score.

Each step applies the single edge change (add, remove or reverse) that raises the score most, among the
changes that keep the graph acyclic and respect the constraints (a tabu list of recently undone changes,
a maximum in-degree, forbidden and required edges); it stops when no change helps by more than
``epsilon``. Because the score decomposes over nodes, a change's gain needs only the one or two local
scores it touches, and local scores are cached per (node, parent set).

Reference: D. Koller and N. Friedman, Probabilistic Graphical Models (2009), section 18.4.3; the search
follows the operators and tabu list of pgmpy's ``HillClimbSearch``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

import networkx as nx

from probgen.bayesnet.learn.data import DataTable, as_table
from probgen.bayesnet.learn.parameters import fit_parameters
from probgen.bayesnet.learn.scores import local_score
from probgen.checks import check_float, check_int


class _Scorer:
    """Cached local scores of one data table."""

    def __init__(self, table: DataTable, score: str, ess: float) -> None:
        self.table, self.score, self.ess, self.cache = table, score, ess, {}

    def __call__(self, node: str, parents: Iterable[str]) -> float:
        key = (node, frozenset(parents))
        if key not in self.cache:
            order = sorted(key[1], key=self.table.nodes.index)
            self.cache[key] = local_score(self.table, node, order, self.score, self.ess)
        return self.cache[key]


def _candidates(g: nx.DiGraph, nodes: list[str], max_indegree: int | None, forbidden: set, required: set):
    """Legal moves as (kind, (u, v)): 'add', 'remove', 'flip' (u -> v becomes v -> u), acyclic only."""
    below = {v: nx.descendants(g, v) | {v} for v in nodes}

    def full(v) -> bool:
        return max_indegree is not None and g.in_degree(v) >= max_indegree

    for u in nodes:
        for v in nodes:
            if u == v:
                continue
            if g.has_edge(u, v):
                if (u, v) not in required:
                    yield "remove", (u, v)
                    other_path = any(v in below[w] for w in g.successors(u) if w != v)
                    if not other_path and (v, u) not in forbidden and not full(u):
                        yield "flip", (u, v)
            elif not g.has_edge(v, u) and u not in below[v] and (u, v) not in forbidden and not full(v):
                yield "add", (u, v)


def _gain(g: nx.DiGraph, kind: str, u: str, v: str, scorer: _Scorer) -> float:
    pv = set(g.predecessors(v))
    if kind == "add":
        return scorer(v, pv | {u}) - scorer(v, pv)
    drop = scorer(v, pv - {u}) - scorer(v, pv)
    if kind == "remove":
        return drop
    pu = set(g.predecessors(u))
    return drop + scorer(u, pu | {v}) - scorer(u, pu)


def _apply(g: nx.DiGraph, kind: str, u: str, v: str) -> None:
    if kind == "add":
        g.add_edge(u, v)
    elif kind == "remove":
        g.remove_edge(u, v)
    else:
        g.remove_edge(u, v)
        g.add_edge(v, u)


def _undo(kind: str, u: str, v: str) -> tuple[str, tuple[str, str]]:
    return {"add": ("remove", (u, v)), "remove": ("add", (u, v)), "flip": ("flip", (v, u))}[kind]


def hill_climb(data, *, score: str = "bic", states: Mapping | None = None, start: nx.DiGraph | None = None,
               max_indegree: int | None = None, forbidden_edges: Iterable = (), required_edges: Iterable = (),
               tabu_length: int = 100, max_iter: int = 10_000, epsilon: float = 1e-4,
               equivalent_sample_size: float = 10.0) -> nx.DiGraph:
    """Learn a DAG over the data's columns by greedy hill climbing.

    Args:
        data: a ``DataTable``, a dict node -> column or a pandas DataFrame (see ``data.py``).
        score: "bic" (default), "bdeu" or "loglik" (no penalty: it only ever adds edges).
        start: the initial DAG (default: no edges; required edges are added to it).
        max_indegree: the most parents a node may have (None: no limit).
        forbidden_edges, required_edges: (u, v) pairs that must not / must appear.
        tabu_length: how many recent moves may not be undone.
        max_iter: the most moves.
        epsilon: stop when the best gain is at most this.
        equivalent_sample_size: the ESS of the "bdeu" score.

    Returns:
        The learned ``nx.DiGraph`` (nodes in the data's column order).
    """
    table = as_table(data, states)
    if max_indegree is not None:
        check_int("max_indegree", max_indegree, 0)
    tabu_length, max_iter = check_int("tabu_length", tabu_length, 0), check_int("max_iter", max_iter, 0)
    check_float("epsilon", epsilon, 0)
    check_float("equivalent_sample_size", equivalent_sample_size, 0, low_open=True)
    forbidden, required = set(map(tuple, forbidden_edges)), set(map(tuple, required_edges))
    g = _start_graph(table, start, required)
    moves = _Moves(table.nodes, max_indegree, forbidden, required, tabu_length)
    scorer = _Scorer(table, score, equivalent_sample_size)
    for _ in range(max_iter):
        best = moves.best(g, scorer, epsilon)
        if best is None:
            break
        moves.apply(g, *best)
    return g


def _start_graph(table: DataTable, start: nx.DiGraph | None, required: set) -> nx.DiGraph:
    """The data's columns as nodes, with the start graph's edges and the required ones (checked)."""
    g = nx.DiGraph()
    g.add_nodes_from(table.nodes)
    if start is not None:
        g.add_edges_from(start.edges)
    g.add_edges_from(required)
    unknown = sorted(set(g.nodes) - set(table.nodes))
    if unknown:
        raise ValueError(f"edges name nodes {unknown} that have no column in the data ({table.nodes})")
    if not nx.is_directed_acyclic_graph(g):
        raise ValueError(f"the start graph and required edges contain a cycle: {nx.find_cycle(g)}")
    return g


class _Moves:
    """The legal moves of one search, with its tabu list of recently undone moves."""

    def __init__(self, nodes, max_indegree, forbidden: set, required: set, tabu_length: int) -> None:
        self.nodes, self.max_indegree = nodes, max_indegree
        self.forbidden, self.required = forbidden, required
        self.tabu: deque = deque(maxlen=tabu_length)

    def best(self, g: nx.DiGraph, scorer: _Scorer, epsilon: float):
        """The move ``(kind, u, v)`` that raises the score most, by more than ``epsilon``; else None."""
        best, best_gain = None, epsilon
        for kind, (u, v) in _candidates(g, self.nodes, self.max_indegree, self.forbidden, self.required):
            if (kind, (u, v)) in self.tabu:
                continue
            gain = _gain(g, kind, u, v, scorer)
            if gain > best_gain:
                best, best_gain = (kind, u, v), gain
        return best

    def apply(self, g: nx.DiGraph, kind: str, u: str, v: str) -> None:
        _apply(g, kind, u, v)
        self.tabu.append(_undo(kind, u, v))


def learn_network(data, *, graph: nx.DiGraph | None = None, states: Mapping | None = None,
                  prior: str = "bdeu", equivalent_sample_size: float = 10.0, **search):
    """Structure and parameters from data: hill climbing (unless ``graph`` is given), then
    ``fit_parameters``. Extra keywords go to ``hill_climb``."""
    table = as_table(data, states)
    if graph is None:
        graph = hill_climb(table, equivalent_sample_size=equivalent_sample_size, **search)
    elif search:
        raise TypeError(f"search options {sorted(search)} make no sense with a given graph")
    return fit_parameters(graph, table, prior=prior, equivalent_sample_size=equivalent_sample_size)
