"""``BayesNet`` with continuous, softmax or neural nodes: what ``BayesNet(g)`` builds when some node's
``cpd`` is a ``GaussianCPD``, ``SoftmaxCPD`` or ``NeuralCPD``.

The graph is validated as for a discrete network (every conditional's ``parents`` equal to the node's
in-edges), then the conditionals are bound into the engine's ``HybridNetwork`` (``self.engine``, from
``probgen.bayesnet.hybrid``), which answers every query: exact Gaussian or CLG inference where it exists,
likelihood weighting or NUTS otherwise (``posterior(..., method=)``; ``explain_query`` says which and why),
densities, sampling with evidence, least squares and SVI. The methods import the engine when called, as
``BayesNet``'s methods import ``exact`` and ``learn``.
"""

from __future__ import annotations

import math

import torch

from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.gaussian_cpd import GaussianCPD
from probgen.bayesnet.model.graph import validate_graph
from probgen.bayesnet.model.network import RESERVED_NAMES, BayesNet
from probgen.bayesnet.model.neural_cpd import NeuralCPD
from probgen.bayesnet.model.softmax_cpd import SoftmaxCPD

CPD_TYPES = (TabularCPD, GaussianCPD, SoftmaxCPD, NeuralCPD)


class HybridBayesNet(BayesNet):
    """A Bayesian network with discrete and continuous (or array-valued, neural) nodes.

    Built by ``BayesNet(g)`` when a node's ``cpd`` is not a table. Besides ``BayesNet``'s accessors and
    graph queries: ``variables`` (node -> ``Variable``), ``is_discrete(n)``, ``discrete_nodes``,
    ``continuous_nodes``, ``family`` (``"gaussian"``, ``"clg"`` or ``"hybrid"``) and ``engine`` (the
    bound ``HybridNetwork``).
    """

    def __init__(self, graph) -> None:
        from probgen.bayesnet.hybrid.network import HybridNetwork

        g = validate_graph(graph, RESERVED_NAMES, CPD_TYPES)
        self.engine = HybridNetwork({n: g.nodes[n]["cpd"] for n in g.nodes}, name=g.graph.get("name"))
        for n in g.nodes:
            g.nodes[n]["cpd"] = self.engine.cpds[n]
        self.graph = g
        self.nodes = list(self.engine.nodes)
        self.variables = self.engine.variables
        self.cards = {n: self.engine.card(n) for n in self.engine.discrete_nodes}
        self._cpds = dict(self.engine.cpds)
        self.encoder = None  # values go through probgen.bayesnet.hybrid.evidence
        self._derived = {}
        self.fit_info = None

    # ----------------------------------------------------------------------------------------- accessors
    def is_discrete(self, n: str) -> bool:
        self._node(n)
        return self.variables[n].discrete

    @property
    def discrete_nodes(self) -> list[str]:
        return self.engine.discrete_nodes

    @property
    def continuous_nodes(self) -> list[str]:
        return self.engine.continuous_nodes

    @property
    def family(self) -> str:
        return self.engine.family

    def _discrete(self, n: str, what: str) -> None:
        self._node(n)
        if not self.variables[n].discrete:
            raise ValueError(f"{what}: {n!r} is a continuous node ({self.variables[n].describe()}); it "
                             "has no states")

    def card(self, n: str) -> int:
        self._discrete(n, "card")
        return self.engine.card(n)

    def states(self, n: str) -> list:
        self._discrete(n, "states")
        return self.engine.states(n)

    def cpt(self, n: str) -> torch.Tensor:
        cpd = self._node(n)
        if not isinstance(cpd, TabularCPD):
            raise ValueError(f"cpt: {n!r} has a {type(cpd).__name__}, not a table; use bn.cpd({n!r})")
        return cpd.probs

    def state_index(self, n: str, state) -> int:
        from probgen.bayesnet.hybrid.evidence import encode_values

        self._discrete(n, "state_index")
        return int(encode_values(self.engine, {n: state}, "state").values[n][0])

    @property
    def num_parameters(self) -> int:
        """Free parameters: tables as in ``BayesNet``, every entry of the Gaussian and softmax parameter
        arrays, every trainable parameter of the neural modules."""
        total = 0
        for n in self.nodes:
            cpd = self._cpds[n]
            if isinstance(cpd, TabularCPD):
                total += math.prod(cpd.probs.shape[:-1]) * (cpd.card - 1)
            elif isinstance(cpd, NeuralCPD):
                total += sum(p.numel() for p in cpd.module.parameters() if p.requires_grad)
            else:
                total += cpd.num_parameters
        return total

    def encode_rows(self, rows, complete: bool = False) -> dict[str, torch.Tensor]:
        """Checked columns: dict node -> int64 states ``(N,)`` or float values ``(N, *event_shape)``."""
        from probgen.bayesnet.hybrid.evidence import encode_values

        cols = encode_values(self.engine, rows, "data").values
        missing = [n for n in self.nodes if n not in cols]
        if complete and missing:
            raise ValueError(f"rows need every node; missing {missing}")
        return cols

    # ------------------------------------------------------------------------------ program, sampling
    def model(self, data=None, num_rows: int | None = None):
        """The Pyro program: one ``pyro.sample`` per node under ``pyro.plate("rows", N)``, observed nodes
        conditioned (``probgen.bayesnet.hybrid.program.hybrid_model``)."""
        return self.engine.model(data, num_rows)

    def sample(self, num_samples: int, *, evidence=None, num_proposals: int | None = None,
               generator: torch.Generator | None = None):
        """Joint draws of every node: dict node -> ``(num_samples, ...)`` (int64 states, float values).

        With ``evidence`` (one value per observed node) the draws are from the posterior: exact when no
        observed node has an unobserved ancestor (clamped forward sampling), else resampled from
        ``num_proposals`` likelihood-weighted draws. The result's ``.method``/``.reason`` say which.
        ``generator`` is not supported here (seed torch's global generator: ``probgen.seed``).
        """
        from probgen.bayesnet.hybrid.conditional import sample_given

        if generator is not None:
            raise ValueError("generator= is for discrete networks; seed the global generator "
                             "(probgen.seed(...)) for networks with continuous nodes")
        return sample_given(self.engine, num_samples, evidence, num_proposals)

    def log_prob(self, rows) -> torch.Tensor:
        """Log joint density of complete rows (mass for discrete nodes, density for continuous), ``(N,)``."""
        return self.engine.log_prob(rows)

    # --------------------------------------------------------------------------------------- inference
    def posterior(self, evidence=None, targets=None, *, method: str = "auto", joint=None,
                  num_samples: int | None = None, **kw):
        """Posterior of the query nodes (default: every unobserved node) given ``evidence``.

        Args:
            evidence: dict node -> value (state name or index; a number; an array for array nodes) or one
                value per row ``(N,)`` (every result then has a leading row axis).
            targets: a node or a list of nodes.
            method: ``"auto"`` (exact where possible, else likelihood weighting), ``"exact"``, ``"lw"``
                or ``"nuts"``.
            joint: continuous query nodes whose joint posterior to return (``.joint``; exact only).
            num_samples: draws for ``"lw"`` (default 10,000) or ``"nuts"`` (default 500).
            **kw: ``max_configurations`` (CLG), ``form`` (``"information"``/``"moment"``), NUTS options.

        Returns:
            A ``Posterior`` (a dict node -> probabilities or a torch distribution) with ``.method``,
            ``.reason``, ``.joint``, ``.ess``, ``.log_evidence``.
        """
        from probgen.bayesnet.hybrid.query import run_query

        return run_query(self.engine, evidence, targets, method=method, joint=joint,
                         num_samples=num_samples, **kw)

    def explain_query(self, evidence=None, targets=None, *, method: str = "auto", **kw) -> str:
        """Which method ``posterior(evidence, targets, method=...)`` would run, and why (no inference)."""
        from probgen.bayesnet.hybrid.query import explain

        return explain(self.engine, evidence, targets, method, **kw)

    def log_probability(self, evidence, *, method: str = "auto", num_samples: int | None = None, **kw):
        """``log p(evidence)``: a log density in the continuous nodes (exact where possible, else the log
        of likelihood weighting's mean weight); scalar, or ``(N,)`` for batched evidence."""
        if not evidence:
            raise ValueError("log_probability needs evidence on at least one node")
        if method == "nuts":
            raise ValueError("NUTS does not estimate p(evidence); use method='exact' or 'lw'")
        post = self.posterior(evidence, [], method=method, num_samples=num_samples, **kw)
        return post.log_evidence

    def probability(self, evidence, **kw):
        """``p(evidence)`` (a density in the continuous nodes); see :meth:`log_probability`."""
        return self.log_probability(evidence, **kw).exp()

    def approximate_posterior(self, evidence=None, targets=None, num_samples: int = 10_000, **kw):
        """``posterior(..., method="lw")``."""
        return self.posterior(evidence, targets, method="lw", num_samples=num_samples, **kw)

    def map(self, evidence=None, **kw):
        raise ValueError("map() is for discrete networks; for continuous nodes use posterior(...) (the mean "
                         "of a Gaussian posterior is its mode)")

    # ------------------------------------------------------------------------------------------ learning
    def fit(self, data, *, method: str = "mle", guide=None, pseudo_count: float = 0.0, **svi_kw):
        """Estimate the conditionals from ``data`` (dict node -> column, or a DataFrame).

        ``method="mle"``: a new network with every ``GaussianCPD`` fitted by least squares (one fit per
        configuration of its discrete parents, CLG) and every table by counting (plus ``pseudo_count``);
        softmax and neural conditionals are kept. ``method="svi"``: trains the ``NeuralCPD`` modules of
        this network in place by SVI on its program (latent nodes need a ``guide``; options
        ``num_steps``, ``batch_size``, ``lr``, ``seed``) and returns this network, with the losses in
        ``fit_info["losses"]``.
        """
        from probgen.checks import check_choice

        check_choice("method", method, ("mle", "svi"))
        if method == "svi":
            from probgen.bayesnet.hybrid.svi import fit_svi

            self.fit_info = {"method": "svi", "losses": fit_svi(self.engine, data, guide, **svi_kw)}
            return self
        if svi_kw or guide is not None:
            raise ValueError(f"method='mle' takes no guide or SVI options (got {sorted(svi_kw)}"
                             f"{' and guide' if guide is not None else ''})")
        from probgen.bayesnet.hybrid.fit import fit_clg

        fitted = fit_clg(self.engine, data, pseudo_count=pseudo_count)
        out = BayesNet(self._graph_with(fitted.cpds))
        out.fit_info = {"method": "mle"}
        return out

    # ------------------------------------------------------------------------------------- graph queries
    def _graph_with(self, cpds: dict):
        g = self.graph.copy()
        for n, cpd in cpds.items():
            g.nodes[n]["cpd"] = cpd
        return g

    def intervene(self, interventions: dict) -> BayesNet:
        """The do-operator: each node in ``interventions`` loses its in-edges and is fixed to the value
        given (a state of a discrete node: a one-hot table; a number or array of a continuous one: a
        ``PointMassCPD``). Exact Gaussian and CLG inference still apply, the fixed nodes treated as
        observed."""
        from probgen.bayesnet.hybrid.evidence import encode_values
        from probgen.bayesnet.model.point_mass import point_mass

        if not isinstance(interventions, dict) or not interventions:
            raise TypeError(f"`interventions` must be a non-empty dict node -> value, got {interventions!r}")
        values = encode_values(self.engine, interventions, "intervention")
        if values.batched:
            raise ValueError("an intervention fixes one value per node, not one per row")
        g = self.graph.copy()
        for n in interventions:
            g.remove_edges_from(list(g.in_edges(n)))
            g.nodes[n]["cpd"] = point_mass(self._cpds[n], self.variables[n], values.values[n][0])
        return BayesNet(g)

    # ------------------------------------------------------------------------------------------- misc
    def __repr__(self) -> str:
        name = self.graph.graph.get("name")
        head = f"BayesNet({name!r}, " if name else "BayesNet("
        nd = len(self.discrete_nodes)
        return (f"{head}{len(self.nodes)} nodes ({nd} discrete, {len(self.nodes) - nd} continuous), "
                f"{self.graph.number_of_edges()} edges, {self.family})")
