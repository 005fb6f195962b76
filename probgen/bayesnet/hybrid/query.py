"""``BayesNet.posterior`` for networks with continuous or neural nodes: pick a method, run it, one result.

``plan_query`` decides, before any work, which method answers a query and why:

- every node a linear Gaussian (``GaussianCPD`` without discrete parents): ``"exact"``, conditioning the
  joint Gaussian (``gaussian_posterior``);
- tables and Gaussians only (a CLG network), with at most ``max_configurations`` configurations of the
  discrete nodes that matter (ancestors of the evidence and the query): ``"exact"`` by enumeration
  (``clg_posterior``);
- anything else (softmax or neural conditionals, too many configurations): likelihood weighting (``"lw"``).

A continuous node fixed by ``intervene`` (a ``PointMassCPD``) does not stop exact inference: it is a root
with a known value, so the query runs on the network with that node observed (its own density taken out
of ``log p(evidence)``).

``method="exact"`` where exact inference does not exist is an error that gives the reason; ``"lw"`` and
``"nuts"`` always run what they name. ``run_query`` returns a :class:`Posterior`: a dict node ->
posterior (a probability tensor for a discrete node, a torch distribution for a continuous one) that also
says which method ran and why (``.method``, ``.reason``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pyro.distributions as dist
import torch

from probgen.bayesnet.hybrid.clg import MAX_CONFIGURATIONS, clg_posterior, count_configurations
from probgen.bayesnet.hybrid.evidence import encode_values, parse_targets
from probgen.bayesnet.hybrid.gaussian import gaussian_posterior
from probgen.bayesnet.hybrid.lw import likelihood_weighting
from probgen.checks import check_choice

__all__ = ["METHODS", "Plan", "Posterior", "explain", "plan_query", "run_query"]

METHODS = ("auto", "exact", "lw", "nuts")


@dataclass(frozen=True)
class Plan:
    """Which method answers a query (``"exact"``, ``"lw"`` or ``"nuts"``), the engine, and why."""

    method: str
    engine: str  # "gaussian", "clg", "lw", "nuts"
    reason: str

    def __str__(self) -> str:
        return f"{self.method} ({self.engine}): {self.reason}"


def _odd_nodes(net) -> list[str]:
    return [n for n, c in net.cpds.items() if type(c).__name__ in ("SoftmaxCPD", "NeuralCPD")]


def _exact_plan(net, observed, targets, max_configurations: int) -> tuple[Plan | None, str]:
    """The exact plan, or None and the reason exact inference does not apply."""
    family = net.family
    if family == "gaussian":
        return Plan("exact", "gaussian", "every node is a linear Gaussian: the joint Gaussian is conditioned "
                                         "in closed form"), ""
    if family == "hybrid":
        odd = _odd_nodes(net)
        return None, (f"nodes {odd[:5]} have softmax or neural conditionals, which have no closed-form "
                      "posterior")
    keep = net.ancestral_set(list(observed) + list(targets))
    disc = [n for n in keep if net.is_discrete(n)]
    k = count_configurations(net, disc)
    if k > max_configurations:
        return None, (f"the discrete nodes {disc[:8]} have {k:,} configurations, more than "
                      f"max_configurations={max_configurations:,}")
    return Plan("exact", "clg", f"tables and Gaussians only (a CLG network): {k:,} configurations of the "
                                "discrete nodes enumerated, Gaussians conditioned in closed form per "
                                "configuration"), ""


def plan_query(net, observed, targets, method: str = "auto",
               max_configurations: int = MAX_CONFIGURATIONS) -> Plan:
    """Decide how to answer a query on ``net`` (a ``HybridNetwork``) observing ``observed`` nodes."""
    check_choice("method", method, METHODS)
    if method == "nuts":
        return Plan("nuts", "nuts", "asked for (method='nuts'): Pyro's NUTS on the conditioned program, "
                                    "discrete nodes summed out")
    if method == "lw":
        return Plan("lw", "lw", "asked for (method='lw'): likelihood weighting")
    plan, why = _exact_plan(net, observed, targets, max_configurations)
    if plan is not None:
        return plan
    if method == "exact":
        raise ValueError(f"method='exact' is not possible here: {why}; use method='lw' or 'nuts'")
    return Plan("lw", "lw", f"no exact method: {why}; likelihood weighting (importance sampling with the "
                            "prior) instead, effective sample size reported")


class Posterior(Mapping):
    """Posterior of the query nodes, a read-only mapping node -> a probability tensor ``(card,)`` /
    ``(N, card)`` for a discrete node, a torch distribution for a continuous one (``Normal`` in a
    Gaussian network, ``MixtureSameFamily`` of Normals in a CLG network; a Normal with the weighted
    mean and variance from likelihood weighting, an ``Empirical`` of the draws from NUTS).

    Attributes:
        method: the method that ran (``"exact"``, ``"lw"`` or ``"nuts"``).
        reason: why it was chosen.
        joint: the joint posterior of the nodes asked for with ``joint=[...]`` (a ``MultivariateNormal``,
            or a ``MixtureSameFamily`` of them in a CLG network), else None.
        ess: likelihood weighting's effective sample size (None otherwise).
        log_evidence: ``log p(evidence)`` (exact, or LW's estimate; None for NUTS).
        details: the engine's own result (``GaussianPosterior``, ``CLGPosterior``, ``LWPosterior``,
            ``NUTSPosterior``).

    Each node's entry is built when first read (a query on a large network builds only what is used).
    """

    def __init__(self, items, plan: Plan, details, joint=None, ess=None, log_evidence=None) -> None:
        self._make = items  # node -> a callable building its entry
        self._done: dict = {}
        self.method, self.reason, self.plan = plan.method, plan.reason, plan
        self.details, self.joint, self.ess, self.log_evidence = details, joint, ess, log_evidence

    def __getitem__(self, node):
        if node not in self._done:
            if node not in self._make:
                raise KeyError(f"{node!r} is not a query node of this posterior; they are {list(self._make)}")
            self._done[node] = self._make[node]()
        return self._done[node]

    def __iter__(self):
        return iter(self._make)

    def __len__(self) -> int:
        return len(self._make)

    def mean(self, node: str) -> torch.Tensor:
        v = self[node]
        return v.mean if isinstance(v, torch.distributions.Distribution) else v

    def __repr__(self) -> str:
        return f"Posterior({list(self)}, method={self.method!r}: {self.reason})"


def _lazy(fn, *args):
    return lambda: fn(*args)


def _gaussian_column(res, k: int) -> dist.Normal:
    """Query node ``k`` of a ``GaussianPosterior``: rows share their covariance (one observed set)."""
    var = res.group_covariance[0, k, k] if len(res.group_covariance) == 1 else res.variance[..., k]
    return dist.Normal(res.mean[..., k], var.sqrt().expand(res.mean.shape[:-1]))


def _normal(mean: torch.Tensor, var: torch.Tensor) -> dist.Normal:
    return dist.Normal(mean, var.clamp_min(1e-300).sqrt())


def _empirical(draws: torch.Tensor, event_dims: int) -> dist.Empirical:
    """Draws ``(S, *batch, *event)`` as an ``Empirical`` with batch shape ``batch`` (equal weights)."""
    moved = draws.movedim(0, draws.ndim - 1 - event_dims)  # (*batch, S, *event)
    return dist.Empirical(moved, torch.zeros(moved.shape[:moved.ndim - event_dims], dtype=moved.dtype))


_FOLD_NOTE = "; nodes fixed by an intervention are treated as observed at their values"


def explain(net, evidence=None, targets=None, method: str = "auto", **kw) -> str:
    """What ``run_query`` would run, and why, without running it."""
    net, evidence, correction = _fold_interventions(net, evidence, targets)
    obs = encode_values(net, evidence, "evidence")
    targets = parse_targets(net, targets, obs.nodes)
    return str(plan_query(net, obs.nodes, targets, method, **kw)) + (_FOLD_NOTE if correction else "")


def _fold_interventions(net, evidence, targets):
    """For a network with scalar point masses (intervened continuous nodes): an engine where each is a unit
    Gaussian at its value, the evidence with those values added, and the log-density correction."""
    from probgen.bayesnet.hybrid.network import HybridNetwork
    from probgen.bayesnet.model.gaussian_cpd import GaussianCPD
    from probgen.bayesnet.model.point_mass import PointMassCPD

    fixed = {n: float(c.value) for n, c in net.cpds.items()
             if isinstance(c, PointMassCPD) and c.value.numel() == 1 and not c.event_shape}
    if not fixed:
        return net, evidence, 0.0
    asked = [targets] if isinstance(targets, str) else list(targets or [])
    clash = [n for n in fixed if n in (evidence or {}) or n in asked]
    if clash:
        raise ValueError(f"{clash} are fixed by an intervention (at {[fixed[n] for n in clash]}); leave them "
                         "out of the evidence and the targets")
    folded = net._cache.get("folded")
    if folded is None:
        cpds = {n: GaussianCPD(bias=fixed[n], variance=1.0) if n in fixed else net.cpds[n]
                for n in net.declared}
        folded = net._cache["folded"] = HybridNetwork(cpds, name=net.name)
    if folded.family == "hybrid":  # other non-linear conditionals: no gain, keep the point masses
        return net, evidence, 0.0
    return folded, {**(evidence or {}), **fixed}, len(fixed) * 0.5 * math.log(2 * math.pi)


def run_query(net, evidence=None, targets=None, *, method: str = "auto", joint=None,
              num_samples: int | None = None, max_configurations: int = MAX_CONFIGURATIONS,
              form: str = "information", **nuts_kwargs) -> Posterior:
    """Answer a posterior query on ``net`` (a ``HybridNetwork``); see the module docstring."""
    net, evidence, correction = _fold_interventions(net, evidence, targets)
    if correction:
        post = run_query(net, evidence, targets, method=method, joint=joint, num_samples=num_samples,
                         max_configurations=max_configurations, form=form, **nuts_kwargs)
        if post.log_evidence is not None:  # take out the unit Gaussians' density at their own mean
            post.log_evidence = post.log_evidence + correction
        post.reason += _FOLD_NOTE
        return post
    obs = encode_values(net, evidence, "evidence")
    targets = parse_targets(net, targets, obs.nodes)
    plan = plan_query(net, obs.nodes, targets, method, max_configurations)
    joint = None if joint is None else ([joint] if isinstance(joint, str) else list(joint))
    if joint is not None and plan.method != "exact":
        raise ValueError(f"joint={joint} needs exact inference; this query runs {plan}")
    if joint is not None:
        bad = [n for n in joint if n not in targets or net.is_discrete(n)]
        if bad:
            raise ValueError(f"joint=: {bad} are not continuous query nodes; the continuous query nodes are "
                             f"{[t for t in targets if not net.is_discrete(t)]}")
    if plan.engine == "gaussian":
        res = gaussian_posterior(net, evidence, targets, form=form)
        items = {n: _lazy(_gaussian_column, res, k) for k, n in enumerate(res.nodes)}
        return Posterior(items, plan, res, res.mvn(joint) if joint else None, None, res.log_evidence)
    if plan.engine == "clg":
        res = clg_posterior(net, evidence, targets, max_configurations=max_configurations, form=form)
        items = {n: _lazy(res.probs if net.is_discrete(n) else res.mixture, n) for n in targets}
        return Posterior(items, plan, res, res.mixture_joint(joint) if joint else None, None,
                         res.log_evidence)
    if plan.engine == "lw":
        res = likelihood_weighting(net, evidence, targets, num_samples=num_samples or 10_000)
        items = {n: _lazy(res.discrete.__getitem__, n) if net.is_discrete(n)
                 else _lazy(_normal, res.mean[n], res.variance[n]) for n in targets}
        return Posterior(items, plan, res, None, res.ess, res.log_evidence)
    from probgen.bayesnet.hybrid.nuts import nuts_posterior

    cont = [t for t in targets if not net.is_discrete(t)]
    res = nuts_posterior(net, evidence, cont, num_samples=num_samples or 500, **nuts_kwargs)
    items = {n: _lazy(_empirical, res.samples[n], len(net.variables[n].event_shape)) for n in cont}
    return Posterior(items, plan, res)
