"""The Bayesian network: a networkx DAG whose nodes carry :class:`TabularCPD` conditionals.

The joint distribution is the product of the nodes' conditionals,
``P(X_1, ..., X_D) = prod_d P(X_d | parents(X_d))``. :class:`BayesNet` validates the graph and the tables,
fixes a topological order and exposes the tables with their axes named; the Pyro program
(:mod:`probgen.bayesnet.compile`), sampling (:mod:`probgen.bayesnet.sample`) and inference
(:mod:`probgen.bayesnet.infer`) work from these accessors.
"""

from __future__ import annotations

import math

import networkx as nx
import torch

from probgen.bayesnet.cpd import TabularCPD
from probgen.bayesnet.graph import markov_blanket, validate_graph

RESERVED_NAMES = ("rows",)  # the Pyro plate over data rows is a sample site of that name


class BayesNet:
    """A discrete Bayesian network, validated and compiled from a networkx DAG.

    Args:
        graph: an ``nx.DiGraph`` whose every node ``n`` has ``graph.nodes[n]["cpd"]``, a
            :class:`TabularCPD` whose ``parents`` are exactly the node's in-edges (in any order; the CPD's
            order fixes the table's axes).

    Raises:
        ValueError: a cycle (named), a node without a CPD, CPD parents that disagree with the in-edges, or a
            table of the wrong shape (the expected shape is given).

    Attributes:
        graph: a copy of the input graph (a plain ``nx.DiGraph``) whose ``cpd`` attributes hold the reshaped
            CPDs; every networkx algorithm applies to it.
        nodes (list[str]): the nodes in a deterministic topological order (the input's node order breaks
            ties).
        cards (dict[str, int]): each node's number of states.
    """

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = validate_graph(graph, RESERVED_NAMES)
        position = {n: i for i, n in enumerate(self.graph.nodes)}
        order = nx.lexicographical_topological_sort(self.graph, key=position.__getitem__)
        self.nodes: list[str] = list(order)
        self.cards: dict[str, int] = {n: self.graph.nodes[n]["cpd"].card for n in self.nodes}
        for n in self.nodes:  # the parents' cardinalities are known now: give every table its full shape
            cpd = self.graph.nodes[n]["cpd"]
            self.graph.nodes[n]["cpd"] = cpd.with_parent_cards([self.cards[p] for p in cpd.parents], node=n)
        self._cpds: dict[str, TabularCPD] = {n: self.graph.nodes[n]["cpd"] for n in self.nodes}
        self._cache: dict = {}  # derived tables (sampling, log-probabilities), built on first use

    # ----------------------------------------------------------------------------------------- accessors
    def _node(self, n) -> TabularCPD:
        try:
            return self._cpds[n]
        except (KeyError, TypeError):
            raise ValueError(f"unknown node {n!r}; the network's nodes are {_short(self.nodes)}") from None

    def cpd(self, n: str) -> TabularCPD:
        """The node's :class:`TabularCPD` (its ``probs`` has shape ``(*parent_cards, card)``)."""
        return self._node(n)

    def parents(self, n: str) -> list[str]:
        """The node's parents, in the order of its CPT's axes."""
        return list(self._node(n).parents)

    def children(self, n: str) -> list[str]:
        """The node's children (in topological order)."""
        self._node(n)
        kids = set(self.graph.successors(n))
        return [c for c in self.nodes if c in kids]

    def card(self, n: str) -> int:
        """The node's number of states."""
        return self._node(n).card

    def states(self, n: str) -> list:
        """The node's state names."""
        return list(self._node(n).states)

    def cpt(self, n: str) -> torch.Tensor:
        """The node's table, float64 ``(*parent_cards, card)``: axes in ``parents(n)`` order, then n."""
        return self._node(n).probs

    def state_index(self, n: str, state) -> int:
        """The index of ``state`` among ``states(n)``.

        ``state`` is a state name or an int index. A name wins when both readings are possible (a node
        whose states are the ints ``[1, 2]`` reads ``1`` as the name, index 0).
        """
        cpd = self._node(n)
        if isinstance(state, torch.Tensor) and state.numel() == 1 and not state.is_floating_point():
            state = int(state.item())
        elif hasattr(state, "item") and type(state).__module__ == "numpy":
            state = state.item()
        try:
            return cpd.index(state)
        except (KeyError, TypeError):
            pass
        if isinstance(state, int) and not isinstance(state, bool) and 0 <= state < cpd.card:
            return state
        raise ValueError(f"unknown state {state!r} for node {n!r}; its states are {_short(cpd.states)} "
                         f"(or an index 0..{cpd.card - 1})")

    @property
    def edges(self) -> list[tuple[str, str]]:
        """The edges (parent, child), children in topological order, parents in CPT order."""
        return [(p, n) for n in self.nodes for p in self._cpds[n].parents]

    @property
    def num_parameters(self) -> int:
        """Free parameters: ``sum_n prod(parent_cards(n)) * (card(n) - 1)``."""
        return sum(math.prod(self.cpt(n).shape[:-1]) * (self.card(n) - 1) for n in self.nodes)

    def encode_rows(self, rows, complete: bool = False) -> dict[str, torch.Tensor]:
        """State indices of a table of rows: dict node -> int64 tensor (N,).

        ``rows`` is a dict node -> column (an int64 tensor of indices, or a list/array of state names or
        indices) or a pandas DataFrame with one column per node. ``complete=True`` requires every node.
        """
        from probgen.bayesnet.sample import encode_rows

        return encode_rows(self, rows, complete)

    # ------------------------------------------------------------------------------------- Pyro program
    def model(self, data=None, num_rows: int | None = None):
        """The Pyro program of the network: one ``pyro.sample(node, Categorical)`` per node in topological
        order, under ``pyro.plate("rows", N)``. ``data`` (dict node -> int64 tensor (N,)) conditions the
        observed nodes; N comes from ``data``, else ``num_rows``, else 1. Returns dict node -> value."""
        from probgen.bayesnet.compile import run_model

        return run_model(self, data, num_rows)

    # ------------------------------------------------------------------------------ sampling, densities
    def sample(self, num_samples: int, *, generator: torch.Generator | None = None
               ) -> dict[str, torch.Tensor]:
        """Forward (ancestral) samples, vectorised over rows: dict node -> int64 tensor (num_samples,)."""
        from probgen.bayesnet.sample import forward_sample

        return forward_sample(self, num_samples, generator=generator)

    def log_prob(self, rows) -> torch.Tensor:
        """Log joint probability of complete rows (see :meth:`encode_rows`), float64 of shape (N,)."""
        from probgen.bayesnet.sample import log_prob

        return log_prob(self, rows)

    # -------------------------------------------------------------------- inference (probgen.bayesnet.infer)
    def posterior(self, evidence=None, targets=None, **kw):
        """Exact posterior marginals: dict node -> tensor (card,) or, for batched evidence, (N, card)."""
        from probgen.bayesnet import infer

        return infer.posterior(self, evidence, targets, **kw)

    def probability(self, evidence, **kw):
        """P(evidence), a float64 tensor (scalar, or (N,) for batched evidence)."""
        from probgen.bayesnet import infer

        return infer.probability(self, evidence, **kw)

    def log_probability(self, evidence, **kw):
        """log P(evidence), a float64 tensor (scalar, or (N,) for batched evidence)."""
        from probgen.bayesnet import infer

        return infer.log_probability(self, evidence, **kw)

    def map(self, evidence=None, **kw):
        """The most probable assignment of the unobserved nodes given the evidence (max-product)."""
        from probgen.bayesnet import infer

        return infer.map_assignment(self, evidence, **kw)

    def approximate_posterior(self, evidence=None, targets=None, num_samples: int = 10_000, **kw):
        """Posterior marginals by likelihood weighting (with an effective sample size)."""
        from probgen.bayesnet import approx

        return approx.likelihood_weighting(self, evidence, targets, num_samples=num_samples, **kw)

    # ------------------------------------------------------------------------------------- graph queries
    def intervene(self, interventions: dict) -> BayesNet:
        """The do-operator: a new network where each node in ``interventions`` (node -> state name or
        index) loses its in-edges and its CPD becomes a point mass on that state."""
        if not isinstance(interventions, dict) or not interventions:
            raise TypeError(f"`interventions` must be a non-empty dict node -> state, got {interventions!r}")
        g = self.graph.copy()
        for n, state in interventions.items():
            k = self.state_index(n, state)
            g.remove_edges_from(list(g.in_edges(n)))
            g.nodes[n]["cpd"] = self._node(n).point_mass(self.states(n)[k])
        return BayesNet(g)

    def markov_blanket(self, n: str) -> list[str]:
        """Parents, children and the children's other parents of ``n`` (in topological order)."""
        self._node(n)
        blanket = markov_blanket(self.graph, n)
        return [m for m in self.nodes if m in blanket]

    def is_d_separated(self, xs, ys, given=()) -> bool:
        """Whether the node sets ``xs`` and ``ys`` are d-separated given ``given`` (names or lists)."""
        sets = []
        for val in (xs, ys, given):
            val = {val} if isinstance(val, str) else set(val)
            for n in val:
                self._node(n)
            sets.append(val)
        xs, ys, given = sets
        overlap = (xs & ys) | (xs & given) | (ys & given)
        if overlap:
            raise ValueError(f"xs, ys and given must be disjoint; {sorted(overlap)} appear in more than one")
        if not xs or not ys:
            raise ValueError("xs and ys must each name at least one node")
        return nx.is_d_separator(self.graph, xs, ys, given)

    def draw(self, ax=None, **kw):
        """Draw the DAG, layered, on a matplotlib axis (a new figure if None); returns the axis."""
        from probgen.bayesnet.draw import draw_network

        return draw_network(self, ax=ax, **kw)

    # ------------------------------------------------------------------------------------------- misc
    def equals(self, other: BayesNet) -> bool:
        """Same nodes (in the same order), states, parents and tables (bit for bit)."""
        return (isinstance(other, BayesNet) and self.nodes == other.nodes
                and all(self._cpds[n] == other._cpds[n] for n in self.nodes))

    def __repr__(self) -> str:
        name = self.graph.graph.get("name")
        head = f"BayesNet({name!r}, " if name else "BayesNet("
        return (f"{head}{len(self.nodes)} nodes, {self.graph.number_of_edges()} edges, "
                f"{self.num_parameters} free parameters: {_short(self.nodes, 8)})")


def _short(items, k: int = 20) -> str:
    items = list(items)
    return repr(items) if len(items) <= k else repr(items[:k])[:-1] + f", ... ({len(items)} in all)]"
