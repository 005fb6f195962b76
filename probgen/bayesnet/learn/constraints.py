"""Checked structure constraints shared by the searches: required and forbidden edges, a start graph.

Every mistake is a ValueError (or TypeError) that names the argument and the edge: an item that is not a
pair, a node that has no column, a self-loop, an edge both required and forbidden, required edges that
form a cycle or exceed ``max_indegree``, a start graph that is not a DAG over the data's columns.
"""

from __future__ import annotations

import networkx as nx

from probgen.bayesnet.model.encoding import short_list, unknown_node

__all__ = ["check_edges", "check_constraints", "start_graph"]


def check_edges(name: str, edges, nodes) -> set[tuple[str, str]]:
    """``edges`` (an iterable of ``(u, v)`` pairs of node names) as a set, each pair checked."""
    if edges is None:
        return set()
    if isinstance(edges, str | bytes) or not hasattr(edges, "__iter__"):
        raise TypeError(f"`{name}` must be a list of (u, v) pairs, got {edges!r}")
    known = set(nodes)
    out = set()
    for item in edges:
        if isinstance(item, str | bytes) or not hasattr(item, "__len__") or len(item) != 2:
            raise ValueError(f"`{name}` item {item!r} is not a pair (u, v); give edges as "
                             "[('A', 'B'), ...]")
        u, v = item
        for x in (u, v):
            if x not in known:
                raise unknown_node(x, list(nodes), f"`{name}` edge {tuple(item)!r} names an ")
        if u == v:
            raise ValueError(f"`{name}` item {tuple(item)!r} is a self-loop; a DAG has none")
        out.add((u, v))
    return out


def check_constraints(nodes, required_edges, forbidden_edges, max_indegree: int | None):
    """``(required, forbidden)`` edge sets, checked against each other and ``max_indegree``."""
    required = check_edges("required_edges", required_edges, nodes)
    forbidden = check_edges("forbidden_edges", forbidden_edges, nodes)
    both = sorted(required & forbidden)
    if both:
        raise ValueError(f"edges {both} are both required and forbidden; drop them from one of "
                         "`required_edges` and `forbidden_edges`")
    g = nx.DiGraph(list(required))
    if not nx.is_directed_acyclic_graph(g):
        cycle = " -> ".join([u for u, _ in nx.find_cycle(g)] + [nx.find_cycle(g)[0][0]])
        raise ValueError(f"`required_edges` form a cycle {cycle}; a DAG cannot contain them all")
    _check_indegree(g, max_indegree, "`required_edges` give")
    return required, forbidden


def _check_indegree(g: nx.DiGraph, max_indegree: int | None, what: str) -> None:
    crowded = {v: d for v, d in g.in_degree() if max_indegree is not None and d > max_indegree}
    if crowded:
        raise ValueError(f"{what} nodes {crowded} (node: parents) more parents than "
                         f"max_indegree={max_indegree}")


def start_graph(nodes, start, required: set, forbidden: set, max_indegree: int | None) -> nx.DiGraph:
    """The data's columns as nodes, with the start graph's edges and the required ones (checked)."""
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    if start is not None:
        if not isinstance(start, nx.DiGraph):
            raise TypeError(f"`start` must be an nx.DiGraph, got {type(start).__name__}")
        unknown = [n for n in start.nodes if n not in g]
        if unknown:
            raise ValueError(f"`start` has nodes {short_list(unknown)} that are not data columns "
                             f"({short_list(list(nodes))})")
        bad = sorted(set(start.edges) & forbidden)
        if bad:
            raise ValueError(f"`start` contains forbidden edges {bad}")
        g.add_edges_from(start.edges)
    g.add_edges_from(required)
    if not nx.is_directed_acyclic_graph(g):
        raise ValueError(f"the start graph with the required edges has a cycle: {nx.find_cycle(g)}")
    _check_indegree(g, max_indegree, "the start graph gives")
    return g
