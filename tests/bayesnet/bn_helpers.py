"""Small networks and a brute-force oracle shared by the Bayesian-network tests.

``joint(bn)`` enumerates the whole joint table by multiplying CPT entries (an oracle independent of the
engine, sampling and the Pyro program); ``random_networks()`` is a hypothesis strategy of small DAGs with
random CPTs.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import torch
from hypothesis import strategies as st

from probgen.bayesnet import BayesNet, TabularCPD


def sprinkler() -> BayesNet:
    """Rain -> Sprinkler, (Rain, Sprinkler) -> Wet: the issue's example."""
    g = nx.DiGraph([("Rain", "Sprinkler"), ("Rain", "Wet"), ("Sprinkler", "Wet")])
    g.nodes["Rain"]["cpd"] = TabularCPD(["no", "yes"], [0.8, 0.2])
    g.nodes["Sprinkler"]["cpd"] = TabularCPD(["off", "on"], [[0.6, 0.4], [0.99, 0.01]], parents=["Rain"])
    g.nodes["Wet"]["cpd"] = TabularCPD(["dry", "wet"], [[1.0, 0.0], [0.1, 0.9], [0.2, 0.8], [0.01, 0.99]],
                                       parents=["Rain", "Sprinkler"])
    return BayesNet(g)


def five_node() -> BayesNet:
    """P(X1) P(X2 | X1) P(X3) P(X4 | X2, X3) P(X5 | X3), with X3 ternary."""
    g = nx.DiGraph([("X1", "X2"), ("X2", "X4"), ("X3", "X4"), ("X3", "X5")])
    g.nodes["X1"]["cpd"] = TabularCPD([0, 1], [0.3, 0.7])
    g.nodes["X2"]["cpd"] = TabularCPD([0, 1], [[0.9, 0.1], [0.25, 0.75]], parents=["X1"])
    g.nodes["X3"]["cpd"] = TabularCPD(["a", "b", "c"], [0.5, 0.3, 0.2])
    g.nodes["X4"]["cpd"] = TabularCPD([0, 1], [[0.99, 0.01], [0.6, 0.4], [0.5, 0.5], [0.3, 0.7], [0.2, 0.8],
                                               [0.05, 0.95]], parents=["X2", "X3"])
    g.nodes["X5"]["cpd"] = TabularCPD([0, 1], [[0.7, 0.3], [0.4, 0.6], [0.1, 0.9]], parents=["X3"])
    return BayesNet(g)


def joint(bn: BayesNet) -> torch.Tensor:
    """The joint table, shape (card(n) for n in bn.nodes), by explicit products of CPT entries."""
    cards = [bn.card(n) for n in bn.nodes]
    out = torch.empty(cards, dtype=torch.float64)
    for assignment in itertools.product(*(range(c) for c in cards)):
        a = dict(zip(bn.nodes, assignment))
        out[assignment] = math.prod(
            bn.cpt(n)[tuple(a[p] for p in bn.parents(n)) + (a[n],)].item() for n in bn.nodes)
    return out


def marginals(bn: BayesNet, table: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Exact marginals of every node from the joint table."""
    table = joint(bn) if table is None else table
    dims = list(range(len(bn.nodes)))
    if len(dims) == 1:  # torch's sum over an empty list of dims would reduce every dim
        return {bn.nodes[0]: table}
    return {n: table.sum([d for d in dims if d != i]) for i, n in enumerate(bn.nodes)}


@st.composite
def random_networks(draw, max_nodes: int = 5, max_card: int = 3, zeros: bool = True) -> BayesNet:
    """A random DAG on 1..max_nodes nodes (edges only from earlier to later names) with random CPTs."""
    n = draw(st.integers(1, max_nodes))
    names = [f"V{i}" for i in range(n)]
    order = draw(st.permutations(names))  # the declaration order differs from the topological one
    edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n) if draw(st.booleans())]
    cards = {v: draw(st.integers(1, max_card)) for v in names}
    g = nx.DiGraph()
    g.add_nodes_from(order)
    g.add_edges_from(edges)
    for v in names:
        parents = draw(st.permutations(list(g.predecessors(v))))
        rows = math.prod(cards[p] for p in parents)
        seed = draw(st.integers(0, 2**31 - 1))
        gen = torch.Generator().manual_seed(seed)
        probs = torch.rand(rows, cards[v], generator=gen, dtype=torch.float64) + 0.05
        if zeros and cards[v] > 1 and draw(st.booleans()):
            probs[:, -1] = 0.0  # a zero-probability state in every row
        g.nodes[v]["cpd"] = TabularCPD([f"s{k}" for k in range(cards[v])], probs if parents else probs[0],
                                       parents=parents, normalize=True)
    return BayesNet(g)
