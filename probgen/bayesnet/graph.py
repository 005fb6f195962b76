"""Validation of a Bayesian network's graph, and graph helpers (Markov blanket, layers).

Every check names the node or edge at fault and says how to fix it; :class:`~probgen.bayesnet.BayesNet`
calls :func:`validate_graph` before anything else.
"""

from __future__ import annotations

import networkx as nx

from probgen.bayesnet.cpd import TabularCPD


def validate_graph(graph, reserved=()) -> nx.DiGraph:
    """Check a DAG with a :class:`TabularCPD` on every node; return a copy of it.

    Checks, in order: the type (an ``nx.DiGraph``, not a multigraph), node names (str, not reserved), a
    CPD on every node, acyclicity (the cycle is named), and CPD parents equal to the in-edges.
    """
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise TypeError(f"BayesNet needs a networkx DiGraph (not a multigraph), got {type(graph).__name__}")
    if graph.number_of_nodes() == 0:
        raise ValueError("the graph has no nodes; add nodes with a 'cpd' attribute each")
    for n in graph.nodes:
        if not isinstance(n, str):
            raise TypeError(f"node names must be str, got {n!r} ({type(n).__name__}); relabel the graph "
                            "(e.g. nx.relabel_nodes(g, str))")
        if n in reserved:
            raise ValueError(f"node name {n!r} is reserved (it names the Pyro plate over data rows); "
                             "rename it")
    _check_cpds(graph)
    _check_acyclic(graph)
    for n in graph.nodes:
        _check_parents(graph, n)
    return graph.copy()


def _check_cpds(graph: nx.DiGraph) -> None:
    missing = [n for n in graph.nodes if "cpd" not in graph.nodes[n]]
    if missing:
        first = missing[0]
        raise ValueError(f"node {first!r} has no conditional (no 'cpd' attribute)"
                         + (f"; nor do {missing[1:]}" if len(missing) > 1 else "")
                         + f": set g.nodes[{first!r}]['cpd'] = TabularCPD(states=..., probs=..., "
                           "parents=...)")
    for n in graph.nodes:
        cpd = graph.nodes[n]["cpd"]
        if not isinstance(cpd, TabularCPD):
            raise TypeError(f"node {n!r}: 'cpd' must be a TabularCPD, got {type(cpd).__name__}")


def _check_acyclic(graph: nx.DiGraph) -> None:
    if nx.is_directed_acyclic_graph(graph):
        return
    cycle = nx.find_cycle(graph)  # [(a, b), (b, c), (c, a)]
    path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
    raise ValueError(f"the graph has a cycle {path}; a Bayesian network must be acyclic: remove one of "
                     f"these edges")


def _check_parents(graph: nx.DiGraph, n: str) -> None:
    cpd = graph.nodes[n]["cpd"]
    in_edges = list(graph.predecessors(n))
    if n in cpd.parents:
        raise ValueError(f"node {n!r}: its CPD lists {n!r} as its own parent")
    if set(cpd.parents) == set(in_edges):
        return
    missing = [p for p in in_edges if p not in cpd.parents]
    extra = [p for p in cpd.parents if p not in in_edges]
    parts = []
    if missing:
        parts.append(f"edges {[f'{p}->{n}' for p in missing]} have no axis in the CPD")
    if extra:
        parts.append(f"CPD parents {extra} have no edge to {n!r} in the graph")
    raise ValueError(f"node {n!r}: CPD parents {cpd.parents} disagree with the graph's in-edges from "
                     f"{in_edges}: {'; '.join(parts)}. Make the CPD's `parents` match the edges")


def markov_blanket(graph: nx.DiGraph, n) -> set:
    """Parents, children and co-parents (the children's other parents) of ``n``."""
    children = set(graph.successors(n))
    blanket = set(graph.predecessors(n)) | children
    for c in children:
        blanket |= set(graph.predecessors(c))
    blanket.discard(n)
    return blanket


def layers(graph: nx.DiGraph) -> list[list]:
    """Nodes grouped by depth (roots first), ordered within a layer to reduce edge crossings.

    Each layer is sorted by the mean position of the node's parents in the layers above (the barycentre
    heuristic of Sugiyama et al., 1981), ties broken by the input order.
    """
    position = {n: i for i, n in enumerate(graph.nodes)}
    result: list[list] = []
    where: dict = {}
    for gen in nx.topological_generations(graph):
        gen = sorted(gen, key=position.__getitem__)
        if result:
            def bary(v):
                ps = [where[p] for p in graph.predecessors(v)]
                return sum(ps) / len(ps) if ps else float("inf")

            gen = sorted(gen, key=lambda v: (bary(v), position[v]))
        for i, v in enumerate(gen):
            where[v] = i - (len(gen) - 1) / 2
        result.append(gen)
    return result
