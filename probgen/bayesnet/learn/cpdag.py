"""Equivalence classes of DAGs: CPDAGs, Meek's orientation rules, consistent extensions, and SHD.

Two DAGs are Markov equivalent when they have the same skeleton and the same v-structures (a -> c <- b with
a, b not adjacent); data alone cannot tell them apart. A CPDAG (completed partially directed acyclic graph)
stands for the class: an edge is directed when every DAG of the class has it so, undirected otherwise. In
probgen a CPDAG is an ``nx.DiGraph`` in which an undirected edge appears in both directions.

- ``dag_to_cpdag``: the v-structures oriented, then Meek's rules 1-3 until nothing changes (Meek 1995
  proved this gives the CPDAG).
- ``cpdag_to_dag``: a consistent extension (a DAG of the class) by Dor and Tarsi's algorithm.
- ``shd``: the structural Hamming distance, for DAGs and CPDAGs alike.

References: C. Meek, "Causal inference and causal explanation with background knowledge", UAI 1995;
D. Dor, M. Tarsi, "A simple algorithm to construct a consistent extension of a partially oriented graph",
Technical report R-185, UCLA (1992); I. Tsamardinos, L. E. Brown, C. F. Aliferis, "The max-min
hill-climbing Bayesian network structure learning algorithm", Machine Learning 65 (2006) (SHD).
"""

from __future__ import annotations

import itertools

import networkx as nx

__all__ = ["dag_to_cpdag", "cpdag_to_dag", "apply_meek_rules", "shd", "undirected_edges"]


def _check_graph(name: str, g) -> nx.DiGraph:
    if not isinstance(g, nx.DiGraph):
        raise TypeError(f"`{name}` must be an nx.DiGraph (a CPDAG has both directions of an undirected "
                        f"edge), got {type(g).__name__}")
    return g


def undirected_edges(g: nx.DiGraph) -> set[frozenset]:
    """The edges present in both directions, as frozensets ``{u, v}``."""
    return {frozenset((u, v)) for u, v in g.edges if g.has_edge(v, u)}


def _directed(g: nx.DiGraph, u, v) -> bool:
    return g.has_edge(u, v) and not g.has_edge(v, u)


def _adjacent(g: nx.DiGraph, u, v) -> bool:
    return g.has_edge(u, v) or g.has_edge(v, u)


def _orient(g: nx.DiGraph, u, v) -> None:
    """Make the undirected edge u - v into u -> v."""
    g.remove_edge(v, u)


def apply_meek_rules(pdag: nx.DiGraph) -> nx.DiGraph:
    """Orient undirected edges by Meek's rules 1-3 until none applies (in place); returns ``pdag``.

    R1: a -> b - c, a and c not adjacent: b -> c (else a new v-structure). R2: a -> b -> c and a - c:
    a -> c (else a cycle). R3: a - b, a - c -> b, a - d -> b, c and d not adjacent: a -> b.
    """
    changed = True
    while changed:
        changed = False
        for b, c in sorted(_undirected_pairs(pdag)):
            for x, y in ((b, c), (c, b)):
                if pdag.has_edge(y, x) and pdag.has_edge(x, y) and _meek_orients(pdag, x, y):
                    _orient(pdag, x, y)
                    changed = True
                    break
    return pdag


def _undirected_pairs(g: nx.DiGraph):
    return [(u, v) for u, v in g.edges if g.has_edge(v, u) and str(u) < str(v)]


def _meek_orients(g: nx.DiGraph, b, c) -> bool:
    """Whether one of rules 1-3 orients the undirected edge b - c as b -> c."""
    parents_b = [a for a in g.predecessors(b) if _directed(g, a, b)]
    if any(not _adjacent(g, a, c) for a in parents_b):  # R1
        return True
    if any(_directed(g, b, m) and _directed(g, m, c) for m in g.successors(b)):  # R2
        return True
    sides = [d for d in g.predecessors(c) if _directed(g, d, c) and g.has_edge(b, d) and g.has_edge(d, b)]
    return any(not _adjacent(g, d1, d2) for d1, d2 in itertools.combinations(sides, 2))  # R3


def dag_to_cpdag(dag: nx.DiGraph) -> nx.DiGraph:
    """The CPDAG of a DAG's Markov equivalence class (undirected edges in both directions)."""
    _check_graph("dag", dag)
    if not nx.is_directed_acyclic_graph(dag):
        raise ValueError("`dag` has a cycle; dag_to_cpdag needs a DAG")
    out = nx.DiGraph()
    out.add_nodes_from(dag.nodes)
    compelled = set()
    for c in dag.nodes:
        parents = list(dag.predecessors(c))
        for a, b in itertools.combinations(parents, 2):
            if not _adjacent(dag, a, b):
                compelled |= {(a, c), (b, c)}
    for u, v in dag.edges:
        out.add_edge(u, v)
        if (u, v) not in compelled:
            out.add_edge(v, u)
    return apply_meek_rules(out)


def cpdag_to_dag(cpdag: nx.DiGraph) -> nx.DiGraph:
    """A DAG of the class a CPDAG (or any partially directed graph) stands for: its directed edges kept,
    its undirected ones oriented without new v-structures or cycles (Dor and Tarsi's algorithm).

    A graph learned from data may admit no such extension (conflicting orientations); then the
    undirected edges that remain are oriented along a topological order of the directed part, and
    directed edges that close a cycle are reversed, so the result is always a DAG.
    """
    _check_graph("cpdag", cpdag)
    work = cpdag.copy()
    out = nx.DiGraph()
    out.add_nodes_from(cpdag.nodes)
    out.add_edges_from((u, v) for u, v in cpdag.edges if not cpdag.has_edge(v, u))
    while work.number_of_nodes():
        x = _sink(work)
        if x is None:
            return _fallback(out, work)
        for y in list(work.predecessors(x)):
            if work.has_edge(x, y):  # undirected y - x: orient y -> x
                out.add_edge(y, x)
        work.remove_node(x)
    return out


def _sink(g: nx.DiGraph):
    """A node with no outgoing directed edge whose undirected neighbours are adjacent to all its other
    neighbours (Dor and Tarsi's condition), or None."""
    for x in sorted(g.nodes, key=str):
        if any(_directed(g, x, y) for y in g.successors(x)):
            continue
        neighbours = set(g.predecessors(x)) | set(g.successors(x))
        loose = [y for y in neighbours if g.has_edge(x, y) and g.has_edge(y, x)]
        if all(_adjacent(g, y, z) for y in loose for z in neighbours if z != y):
            return x
    return None


def _fallback(out: nx.DiGraph, work: nx.DiGraph) -> nx.DiGraph:
    directed = nx.DiGraph()
    directed.add_nodes_from(work.nodes)
    directed.add_edges_from((u, v) for u, v in work.edges if not work.has_edge(v, u))
    while not nx.is_directed_acyclic_graph(directed):
        u, v = nx.find_cycle(directed)[0][:2]
        directed.remove_edge(u, v)
        out.remove_edge(u, v)
        out.add_edge(v, u)
    rank = {n: i for i, n in enumerate(nx.lexicographical_topological_sort(directed, key=str))}
    for e in undirected_edges(work):
        u, v = sorted(e, key=rank.__getitem__)
        out.add_edge(u, v)
    if not nx.is_directed_acyclic_graph(out):  # a reversed edge may close a cycle through the rest
        order = {n: i for i, n in enumerate(_any_order(out))}
        bad = [(u, v) for u, v in out.edges if order[u] > order[v]]
        out.remove_edges_from(bad)
        out.add_edges_from((v, u) for u, v in bad)
    return out


def _any_order(g: nx.DiGraph) -> list:
    """A node order that follows as many edges as a greedy pass can (sources first)."""
    h = g.copy()
    order = []
    while h.number_of_nodes():
        n = min(h.nodes, key=lambda m: (h.in_degree(m), str(m)))
        order.append(n)
        h.remove_node(n)
    return order


def shd(a: nx.DiGraph, b: nx.DiGraph) -> int:
    """Structural Hamming distance: the number of node pairs whose edge differs between ``a`` and ``b``.

    Each pair is one of: no edge, u -> v, v -> u, or undirected u - v (both directions present, as in a
    CPDAG), so a missing, extra or reversed edge counts 1, and so does a directed edge against an
    undirected one. DAGs and CPDAGs alike (compare two CPDAGs to ignore unidentifiable directions).
    """
    _check_graph("a", a)
    _check_graph("b", b)
    pairs = {frozenset((u, v)) for g in (a, b) for u, v in g.edges if u != v}
    return sum(_kind(a, p) != _kind(b, p) for p in pairs)


def _kind(g: nx.DiGraph, pair: frozenset) -> tuple[bool, bool]:
    u, v = sorted(pair, key=str)
    return g.has_edge(u, v), g.has_edge(v, u)
