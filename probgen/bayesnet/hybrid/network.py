"""A hybrid network: nodes in topological order, each with its conditional, bound to its parents.

``HybridNetwork`` takes a dict node -> conditional (``TabularCPD`` for a discrete node with discrete
parents, ``GaussianCPD``, ``SoftmaxCPD`` or ``NeuralCPD``), checks the graph (``check_hybrid_graph``:
unknown parents, cycles, a discrete node with a continuous parent and no link saying how), fixes a
topological order and binds every conditional to its parents' variables. The inference functions of this
package take a ``HybridNetwork``; a ``BayesNet`` can build one from its graph's ``cpd`` attributes.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import torch

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.model.gaussian_cpd import GaussianCPD
from probgen.bayesnet.model.graph import topological_order
from probgen.bayesnet.model.hybrid_network import CPD_TYPES
from probgen.bayesnet.model.network import RESERVED_NAMES
from probgen.bayesnet.model.variables import DISCRETE, Variable


def variable_of(cpd) -> Variable:
    """The kind of values of the node that ``cpd`` belongs to."""
    if isinstance(cpd, TabularCPD):
        return Variable(DISCRETE, tuple(cpd.states))
    return cpd.variable()


def check_hybrid_graph(cpds: Mapping) -> list[str]:
    """Check the graph the conditionals declare; return a topological order (ties keep the dict's order).

    Raises:
        TypeError: a node name that is not a str, or a conditional of an unknown type (named).
        ValueError: a reserved or unknown name, a cycle (listed), or a discrete node whose ``TabularCPD``
            has a continuous parent (the edge is named, with the fix).
    """
    if not isinstance(cpds, Mapping) or not cpds:
        raise TypeError(f"a hybrid network needs a non-empty dict node -> conditional, got {cpds!r}")
    for n, cpd in cpds.items():
        if not isinstance(n, str):
            raise TypeError(f"node names must be str, got {n!r} ({type(n).__name__})")
        if n in RESERVED_NAMES:
            raise ValueError(f"node name {n!r} is reserved (the Pyro plate over rows); rename the node")
        if not isinstance(cpd, CPD_TYPES):
            raise TypeError(f"node {n!r}: its conditional must be one of "
                            f"{[t.__name__ for t in CPD_TYPES]}, got {type(cpd).__name__}")
        for p in cpd.parents:
            if p not in cpds:
                raise ValueError(f"node {n!r} has parent {p!r}, which is not a node of the network "
                                 f"(edge {p} -> {n}); add a conditional for {p!r}")
    variables = {n: variable_of(c) for n, c in cpds.items()}
    for n, cpd in cpds.items():
        for p in cpd.parents:
            if isinstance(cpd, TabularCPD) and not variables[p].discrete:
                raise ValueError(f"discrete node {n!r} has the continuous parent {p!r} (edge {p} -> "
                                 f"{n}), but "
                                 f"its TabularCPD cannot say how a continuous value changes it; give {n!r} a "
                                 "SoftmaxCPD (multinomial-logistic link) or a NeuralCPD(states=...)")
    return _topological(cpds)


def _topological(cpds: Mapping) -> list[str]:
    order = topological_order(list(cpds), lambda n: cpds[n].parents)
    if len(order) != len(cpds):
        g = nx.DiGraph([(p, n) for n, c in cpds.items() for p in c.parents])
        cycle = [u for u, _ in nx.find_cycle(g)]
        raise ValueError(f"the network has a cycle: {' -> '.join(cycle + cycle[:1])}")
    return order


class HybridNetwork:
    """Discrete, continuous and neural nodes with their conditionals, in topological order.

    Args:
        cpds: dict node -> conditional; each conditional's ``parents`` are the node's parents.
        name: an optional name (shown in the repr).

    Attributes:
        nodes (list[str]): topological order (the dict's order breaks ties).
        cpds (dict): node -> its conditional, bound to its parents (tables shaped ``(*parent_cards, card)``).
        variables (dict): node -> ``Variable`` (discrete with states, or continuous with an event shape).
        declared (list[str]): the nodes in the dict's order (kept for files).
    """

    def __init__(self, cpds: Mapping, name: str | None = None) -> None:
        self.nodes = check_hybrid_graph(cpds)
        self.declared = list(cpds)
        self.name = name
        self.variables = {n: variable_of(cpds[n]) for n in self.nodes}
        self.cpds = {}
        for n in self.nodes:
            cpd = cpds[n]
            parents = {p: self.variables[p] for p in cpd.parents}
            if isinstance(cpd, TabularCPD):
                cpd = cpd.with_parent_cards([parents[p].card for p in cpd.parents], node=n)
            else:
                cpd = cpd.bind(n, parents)
            self.cpds[n] = cpd
        self._cache: dict = {}

    # ----------------------------------------------------------------------------------------- accessors
    def _check(self, n) -> str:
        if n not in self.cpds:
            raise ValueError(f"unknown node {n!r}; the network's nodes are {_short(self.nodes)}")
        return n

    def parents(self, n: str) -> list[str]:
        return list(self.cpds[self._check(n)].parents)

    def is_discrete(self, n: str) -> bool:
        return self.variables[self._check(n)].discrete

    def card(self, n: str) -> int:
        return self.variables[self._check(n)].card

    def states(self, n: str) -> list:
        return list(self.variables[self._check(n)].states)

    @property
    def discrete_nodes(self) -> list[str]:
        return [n for n in self.nodes if self.variables[n].discrete]

    @property
    def continuous_nodes(self) -> list[str]:
        return [n for n in self.nodes if not self.variables[n].discrete]

    @property
    def family(self) -> str:
        """``"gaussian"`` (every node a GaussianCPD without discrete parents), ``"clg"`` (tables and
        Gaussians: exact inference applies) or ``"hybrid"`` (softmax or neural links)."""
        types = {type(c) for c in self.cpds.values()}
        if types == {GaussianCPD} and not any(c.discrete_parents for c in self.cpds.values()):
            return "gaussian"
        if types <= {GaussianCPD, TabularCPD}:
            return "clg"
        return "hybrid"

    @property
    def edges(self) -> list[tuple[str, str]]:
        """(parent, child) pairs, children in topological order, parents in their conditional's order."""
        return [(p, n) for n in self.nodes for p in self.cpds[n].parents]

    def ancestral_set(self, nodes) -> list[str]:
        """``nodes`` and all their ancestors, in topological order."""
        keep = {self._check(n) for n in nodes}
        for n in reversed(self.nodes):
            if n in keep:
                keep.update(self.cpds[n].parents)
        return [n for n in self.nodes if n in keep]

    # ----------------------------------------------------------------------- program, sampling, densities
    def model(self, data=None, num_rows: int | None = None):
        """The Pyro program: one ``pyro.sample`` per node under ``pyro.plate("rows", N)``; see
        ``probgen.bayesnet.hybrid.program.hybrid_model``."""
        from probgen.bayesnet.hybrid.program import hybrid_model

        return hybrid_model(self, data, num_rows)

    def sample(self, num_samples: int) -> dict:
        """Ancestral samples: dict node -> ``(num_samples,)`` (int64 states or float64 values) or
        ``(num_samples, *event_shape)`` for array-valued nodes."""
        from probgen.bayesnet.hybrid.program import forward_sample

        return forward_sample(self, num_samples)

    def log_prob(self, values) -> torch.Tensor:
        """Log joint density of complete rows (dict node -> values), float64 ``(N,)``."""
        from probgen.bayesnet.hybrid.program import log_joint

        return log_joint(self, values)

    def __repr__(self) -> str:
        head = f"HybridNetwork({self.name!r}, " if self.name else "HybridNetwork("
        nd = len(self.discrete_nodes)
        return (f"{head}{len(self.nodes)} nodes ({nd} discrete, {len(self.nodes) - nd} continuous), "
                f"{len(self.edges)} edges, {self.family})")


def _short(items, k: int = 20) -> str:
    items = list(items)
    return repr(items) if len(items) <= k else repr(items[:k])[:-1] + f", ... ({len(items)} in all)]"
