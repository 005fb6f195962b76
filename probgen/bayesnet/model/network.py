"""The Bayesian network: a networkx DAG whose nodes carry :class:`TabularCPD` conditionals.

The joint distribution is the product of the nodes' conditionals,
``P(X_1, ..., X_D) = prod_d P(X_d | parents(X_d))``. :class:`BayesNet` validates the graph and the tables,
fixes a topological order and exposes the tables with their axes named; the Pyro program
(``model.program``), sampling (``model.sampling``), exact inference (``exact``), likelihood weighting
(``approx``) and learning work from these accessors. States given by the user go through the network's
``encoder`` (``model.encoding``), one rule set for every method.
"""

from __future__ import annotations

import math

import networkx as nx
import torch

from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.encoding import StateEncoder, short_list, unknown_node
from probgen.bayesnet.model.graph import markov_blanket, topological_order, validate_graph

RESERVED_NAMES = ("rows",)  # the Pyro plate over data rows is a sample site of that name


def _has_other_cpds(graph) -> bool:
    """Whether some node of ``graph`` carries a Gaussian, softmax or neural conditional (their module, and
    Pyro with it, is imported only when some node carries something other than a ``TabularCPD``)."""
    if not isinstance(graph, nx.DiGraph):
        return False
    others = [c for _, c in graph.nodes(data="cpd") if c is not None and not isinstance(c, TabularCPD)]
    if not others:
        return False
    from probgen.bayesnet.model.hybrid_network import CPD_TYPES

    return any(isinstance(c, CPD_TYPES) for c in others)


class BayesNet:
    """A Bayesian network, validated and compiled from a networkx DAG.

    With a ``GaussianCPD``, ``SoftmaxCPD`` or ``NeuralCPD`` on some node, ``BayesNet(g)`` builds a
    :class:`~probgen.bayesnet.model.hybrid_network.HybridBayesNet` (a subclass with the same methods,
    answering them with continuous densities; see ``docs/bayesnet_hybrid.md``). The rest of this docstring
    is about discrete networks.

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
        encoder (StateEncoder): turns state names, indices and data columns into state codes (the rules
            are in ``probgen.bayesnet.model.encoding``).
    """

    def __new__(cls, graph=None, *args, **kwargs):
        if cls is BayesNet and _has_other_cpds(graph):
            from probgen.bayesnet.model.hybrid_network import HybridBayesNet

            cls = HybridBayesNet
        return super().__new__(cls)

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = validate_graph(graph, RESERVED_NAMES)
        order = topological_order(list(self.graph.nodes), lambda n: list(self.graph.predecessors(n)))
        cards = {n: self.graph.nodes[n]["cpd"].card for n in order}
        for n in cards:  # the parents' cardinalities are known now: give every table its full shape
            cpd = self.graph.nodes[n]["cpd"]
            self.graph.nodes[n]["cpd"] = cpd.with_parent_cards([cards[p] for p in cpd.parents], node=n)
        self._setup(list(cards))

    @classmethod
    def _from_checked(cls, graph: nx.DiGraph, nodes: list[str]) -> BayesNet:
        """A network from a graph its caller built and checked as ``__init__`` would (``validate_graph``,
        full-shaped tables) and now hands over, with its nodes in ``__init__``'s order (the BIF reader)."""
        self = object.__new__(cls)
        self.graph = graph
        self._setup(nodes)
        return self

    def _setup(self, nodes: list[str]) -> None:
        self.nodes: list[str] = nodes
        self._cpds: dict[str, TabularCPD] = {n: self.graph.nodes[n]["cpd"] for n in nodes}
        self.cards: dict[str, int] = {n: cpd.card for n, cpd in self._cpds.items()}
        self.encoder = StateEncoder({n: self._cpds[n].states for n in self.nodes})
        self._derived: dict = {}  # tables derived from the CPTs (sampling, log-probabilities)
        self.fit_info = None  # set by fit(): what the estimate did (learn.em.EMResult)

    # ----------------------------------------------------------------------------------------- accessors
    def _node(self, n) -> TabularCPD:
        try:
            return self._cpds[n]
        except (KeyError, TypeError):
            raise unknown_node(n, self.nodes) from None

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
        """The code (index among ``states(n)``) of ``state``: a state name, an index or a 0-d integer tensor.

        One rule set for every method (``probgen.bayesnet.model.encoding``): a value names the state whose
        text it matches, ``"1"``, ``1`` and ``np.int64(1)`` alike; else a non-negative integer is an index
        (names first: a node whose states are the ints ``[1, 2]`` reads ``1`` as the name, index 0);
        booleans are refused.
        """
        return self.encoder.code(n, state)

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
        return self.encoder.rows(rows, complete=complete)

    def derived(self, key, build):
        """A table derived from the CPTs (by ``build()``), made once per network and kept with it.

        The network is treated as immutable: the samplers cache their lookup tables here.
        """
        value = self._derived.get(key)
        if value is None:
            value = self._derived[key] = build()
        return value

    # ------------------------------------------------------------------------------------- Pyro program
    def model(self, data=None, num_rows: int | None = None):
        """The Pyro program of the network: one ``pyro.sample(node, Categorical)`` per node in topological
        order, under ``pyro.plate("rows", N)``. ``data`` (dict node -> int64 tensor (N,)) conditions the
        observed nodes; N comes from ``data``, else ``num_rows``, else 1. Returns dict node -> value."""
        from probgen.bayesnet.model.program import run_model

        return run_model(self, data, num_rows)

    # ------------------------------------------------------------------------------ sampling, densities
    def sample(self, num_samples: int, *, evidence=None, generator: torch.Generator | None = None
               ) -> dict[str, torch.Tensor]:
        """Forward (ancestral) samples, vectorised over rows: dict node -> int64 tensor (num_samples,).

        With ``evidence`` (node -> one state), draws from the posterior as for networks with continuous
        nodes (``probgen.bayesnet.hybrid.conditional``: clamped forward sampling when no observed node has
        an unobserved ancestor, else sampling-importance-resampling; the result's ``.method`` says which);
        seed torch's global generator for it (``generator`` is for the evidence-free sampler).
        """
        if evidence:
            if generator is not None:
                raise ValueError("sample(evidence=...) draws from torch's global generator; seed it "
                                 "(probgen.seed(...)) instead of passing generator=")
            from probgen.bayesnet.hybrid.conditional import sample_given

            return sample_given(self.derived("engine", self._engine), num_samples, evidence)
        from probgen.bayesnet.model.sampling import forward_sample

        return forward_sample(self, num_samples, generator=generator)

    def _engine(self):
        """The network as the hybrid engine's ``HybridNetwork`` (for sampling with evidence)."""
        from probgen.bayesnet.hybrid.network import HybridNetwork

        return HybridNetwork({n: self._cpds[n] for n in self.nodes}, name=self.graph.graph.get("name"))

    def log_prob(self, rows) -> torch.Tensor:
        """Log joint probability of complete rows (see :meth:`encode_rows`), float64 of shape (N,)."""
        from probgen.bayesnet.model.sampling import log_prob

        return log_prob(self, rows)

    # ------------------------------------------------------------- inference (exact.queries, approx)
    def posterior(self, evidence=None, targets=None, **kw):
        """Exact posterior marginals: dict node -> tensor (card,) or, for batched evidence, (N, card)."""
        from probgen.bayesnet.exact import queries

        return queries.posterior(self, evidence, targets, **kw)

    def probability(self, evidence, **kw):
        """P(evidence), a float64 tensor (scalar, or (N,) for batched evidence)."""
        from probgen.bayesnet.exact import queries

        return queries.probability(self, evidence, **kw)

    def log_probability(self, evidence, **kw):
        """log P(evidence), a float64 tensor (scalar, or (N,) for batched evidence)."""
        from probgen.bayesnet.exact import queries

        return queries.log_probability(self, evidence, **kw)

    def map(self, evidence=None, **kw):
        """The most probable assignment of the unobserved nodes given the evidence (max-product)."""
        from probgen.bayesnet.exact import queries

        return queries.map_assignment(self, evidence, **kw)

    def explain_query(self, evidence=None, targets=None, **kw) -> str:
        """Which method :meth:`posterior` runs, and why (networks with continuous nodes choose among
        several; a discrete network is always answered exactly)."""
        return ("exact (variable elimination): every node is discrete, so the posterior is an exact sum "
                "over the hidden nodes; approximate_posterior(...) runs likelihood weighting instead")

    def approximate_posterior(self, evidence=None, targets=None, num_samples: int = 10_000, **kw):
        """Posterior marginals by likelihood weighting (with an effective sample size)."""
        from probgen.bayesnet.approx.weighting import likelihood_weighting

        return likelihood_weighting(self, evidence, targets, num_samples=num_samples, **kw)

    # ------------------------------------------------------------------------------------------ learning
    def fit(self, data, *, method: str = "mle", prior: str | None = None,
            equivalent_sample_size: float = 10.0, pseudo_counts=None, latent=None, init=None,
            ignore_extra: bool = False, max_iter: int = 100, tol: float = 1e-6,
            n_restarts: int | None = None, generator: torch.Generator | None = None) -> BayesNet:
        """A new network with this one's graph and states and every table re-estimated from ``data``.

        Args:
            data: a pandas DataFrame (state names, category columns or integer codes), a dict node ->
                column (tensors of codes, arrays, lists) or a CSV path. Missing cells are NaN, None or
                pandas' NA (-1 in integer tensors and arrays).
            method: "mle" (maximum likelihood), "bayes" (posterior mean under a Dirichlet prior) or "em"
                (expectation-maximisation; chosen with a logged note when cells are missing or nodes
                are latent).
            prior: "bdeu" (default for "bayes"), "k2" or "dirichlet" (with ``pseudo_counts``: a number, or
                dict node -> number or table of the CPT's shape); EM uses it in its M-step.
            equivalent_sample_size: the ESS of "bdeu" (> 0).
            latent: nodes without a column, fitted by EM from random starts (identifiable only up to a
                relabelling of their states). A node without a column that is not declared is an error.
            init: EM's first start: "network" (this network's tables) or dict node -> TabularCPD or table;
                a node named here without a column is latent.
            ignore_extra: drop data columns that are not nodes (otherwise an error naming them).
            max_iter, tol: EM stops after ``max_iter`` iterations or when the relative change of the
                log-likelihood (plus the log prior) is at most ``tol``.
            n_restarts: EM starts (default 5 with latent nodes, else 1); the best likelihood is kept.
            generator: the random source of EM's random starts.

        Returns:
            The fitted BayesNet; its ``fit_info`` says what was done (``method``, the EM
            ``log_likelihood`` trace, ``converged``, ``iterations``, ``restart_log_likelihoods``).
        """
        from probgen.bayesnet.learn.fit import fit_network

        return fit_network(self, data, method=method, prior=prior,
                           equivalent_sample_size=equivalent_sample_size, pseudo_counts=pseudo_counts,
                           latent=latent, init=init, ignore_extra=ignore_extra, max_iter=max_iter, tol=tol,
                           n_restarts=n_restarts, generator=generator)

    # ------------------------------------------------------------------------------------- graph queries
    def intervene(self, interventions: dict) -> BayesNet:
        """The do-operator: a new network where each node in ``interventions`` (node -> state name or
        index) loses its in-edges and its CPD becomes a point mass on that state."""
        if not isinstance(interventions, dict) or not interventions:
            raise TypeError(f"`interventions` must be a non-empty dict node -> state, got {interventions!r}")
        g = self.graph.copy()
        for n, state in interventions.items():
            k = self.encoder.code(n, state, "intervention on")
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
        for name, val in (("xs", xs), ("ys", ys), ("given", given)):
            val = [val] if isinstance(val, str) else val
            if not hasattr(val, "__iter__"):
                raise TypeError(f"`{name}` must be a node name or a list of them, got {val!r}")
            val = list(val)
            for n in val:
                self._node(n)  # an unknown (or unhashable) name is named here
            sets.append(set(val))
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
                f"{self.num_parameters} free parameters: {short_list(self.nodes, 8)})")

