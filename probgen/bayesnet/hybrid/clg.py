"""Exact inference in conditional linear Gaussian (CLG) networks, by enumerating the discrete nodes.

In a CLG network (tables on discrete nodes with discrete parents, ``GaussianCPD`` on continuous ones),
fixing every discrete node to a configuration ``c`` leaves a linear Gaussian network. So, for every
configuration of the relevant discrete nodes (the ancestors of the evidence and the query),

    P(c | e) ∝ P(c) p(x_E | c)          (tables, times the Gaussian evidence density for c)

with the continuous evidence density and the Gaussian posterior of the hidden continuous nodes computed in
closed form per configuration (``probgen.bayesnet.hybrid.condition``, all configurations batched).
Discrete posteriors are then exact sums over configurations, and a continuous node's posterior is the
mixture ``sum_c P(c | e) N(m_c, s_c^2)``, returned as ``MixtureSameFamily``. The work grows with the number
of configurations, the product of the discrete nodes' cardinalities: above ``max_configurations``
(default ``MAX_CONFIGURATIONS``) the call refuses and names the nodes, and likelihood weighting
(``probgen.bayesnet.hybrid.lw``) is the fallback. Lauritzen (1992) gives the junction-tree form that
avoids the enumeration; this module favours batching and simplicity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyro.distributions as dist
import torch

from probgen.bayesnet.hybrid.condition import condition
from probgen.bayesnet.hybrid.evidence import encode_values, parse_targets
from probgen.bayesnet.hybrid.linear import linear_gaussian

__all__ = ["MAX_CONFIGURATIONS", "CLGPosterior", "clg_posterior", "count_configurations"]

#: Default limit on the discrete configurations enumerated by ``clg_posterior``. Memory grows as
#: configurations x (continuous nodes)^2 + configurations x rows x query nodes float64 numbers.
MAX_CONFIGURATIONS = 4096


@dataclass
class CLGPosterior:
    """The exact posterior of a CLG network's query nodes.

    Attributes:
        discrete: discrete query node -> ``(N, card)`` posterior probabilities (``(card,)`` unbatched).
        nodes: the continuous query nodes; column ``k`` of ``means`` is ``nodes[k]``.
        weights: ``(N, K)`` posterior probability of each discrete configuration.
        means: ``(N, K, T)`` the continuous query nodes' means given each configuration.
        covariances: ``(K, T, T)`` their covariance given each configuration (shared by the rows).
        log_evidence: ``(N,)`` (or ``()``), ``log p(e)`` (a density in the continuous evidence).
        batched: whether the evidence was given per row.
        method: how it was computed.
    """

    discrete: dict[str, torch.Tensor]
    nodes: list[str]
    weights: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor
    log_evidence: torch.Tensor
    batched: bool
    method: str

    def _col(self, node) -> int:
        if node not in self.nodes:
            raise ValueError(f"{node!r} is not a continuous query node; they are {self.nodes} (discrete "
                             f"ones: {list(self.discrete)})")
        return self.nodes.index(node)

    def _rows(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.batched else t[0]

    def probs(self, node: str) -> torch.Tensor:
        """A discrete query node's posterior ``(N, card)`` (or ``(card,)``)."""
        if node not in self.discrete:
            raise ValueError(f"{node!r} is not a discrete query node; they are {list(self.discrete)}")
        return self.discrete[node]

    def mixture(self, node: str) -> dist.MixtureSameFamily:
        """A continuous query node's posterior: a mixture of K Normals, batch ``(N,)`` (or ``()``)."""
        k = self._col(node)
        scale = self.covariances[:, k, k].sqrt().expand(self.means.shape[:-1])  # (N, K)
        comp = dist.Normal(self._rows(self.means[..., k]), self._rows(scale))
        return dist.MixtureSameFamily(dist.Categorical(probs=self._rows(self.weights)), comp)

    def mixture_joint(self, nodes=None) -> dist.MixtureSameFamily:
        """The joint posterior of continuous query nodes: a mixture of K MultivariateNormals."""
        nodes = self.nodes if nodes is None else ([nodes] if isinstance(nodes, str) else list(nodes))
        cols = torch.as_tensor([self._col(n) for n in nodes], dtype=torch.long)
        tril = torch.linalg.cholesky(self.covariances[:, cols[:, None], cols])  # (K, q, q)
        loc = self.means[..., cols]  # (N, K, q)
        comp = dist.MultivariateNormal(self._rows(loc), scale_tril=tril.expand(*loc.shape, len(cols))
                                       if self.batched else tril)
        return dist.MixtureSameFamily(dist.Categorical(probs=self._rows(self.weights)), comp)

    def mean(self, node: str) -> torch.Tensor:
        """The posterior mean of a continuous query node, ``(N,)`` (or ``()``)."""
        return self.mixture(node).mean

    def variance(self, node: str) -> torch.Tensor:
        """The posterior variance of a continuous query node (within plus between configurations)."""
        return self.mixture(node).variance

    def __repr__(self) -> str:
        return (f"CLGPosterior({len(self.discrete)} discrete and {len(self.nodes)} continuous query nodes, "
                f"{self.weights.shape[-1]} configurations, {self.method})")


def count_configurations(net, nodes) -> int:
    """The number of joint configurations of the discrete nodes among ``nodes``."""
    return math.prod(net.card(n) for n in nodes if net.is_discrete(n))


def _configurations(net, disc: list[str]) -> torch.Tensor:
    """Every joint state of ``disc``: int64 ``(K, len(disc))``, the last node varying fastest."""
    cards = [net.card(n) for n in disc]
    if not disc:
        return torch.zeros(1, 0, dtype=torch.long)
    flat = torch.arange(math.prod(cards))
    return torch.stack(torch.unravel_index(flat, cards), -1)


def _log_prior(net, disc: list[str], configs: torch.Tensor) -> torch.Tensor:
    """``log P(c)`` of each configuration ``(K,)``, from the tables (parents are in ``disc`` too)."""
    col = {n: j for j, n in enumerate(disc)}
    out = torch.zeros(len(configs), dtype=torch.float64)
    for n in disc:
        cpd = net.cpds[n]
        idx = tuple(configs[:, col[p]] for p in cpd.parents) + (configs[:, col[n]],)
        out = out + cpd.probs[idx].log()
    return out


def _check_clg(net) -> None:
    if net.family == "hybrid":
        odd = [n for n, c in net.cpds.items() if type(c).__name__ in ("SoftmaxCPD", "NeuralCPD")]
        raise ValueError(f"exact CLG inference needs tables on discrete nodes and GaussianCPDs on continuous "
                         f"ones; {odd[:5]} have softmax or neural conditionals (use likelihood_weighting)")


def clg_posterior(net, evidence=None, targets=None, *, max_configurations: int = MAX_CONFIGURATIONS,
                  form: str = "information") -> CLGPosterior:
    """Exact posterior of a CLG network's query nodes, enumerating the relevant discrete configurations.

    Args:
        net: a ``HybridNetwork`` whose family is ``"clg"`` (or ``"gaussian"``).
        evidence: dict node -> value, or one value per row ``(N,)`` (state names or indices for discrete
            nodes, numbers for continuous ones); all rows observe the same nodes.
        targets: a node or a list of nodes; default every unobserved node.
        max_configurations: refuse (with the count and the nodes) above this many configurations.
        form: ``"information"`` or ``"moment"`` (see ``condition``).

    Returns:
        A ``CLGPosterior``: ``.probs(d)`` for discrete nodes, ``.mixture(x)`` / ``.mean(x)`` for
        continuous ones, ``.log_evidence``.
    """
    _check_clg(net)
    obs = encode_values(net, evidence, "evidence")
    targets = parse_targets(net, targets, obs.nodes)
    keep = net.ancestral_set(obs.nodes + targets)
    disc = [n for n in keep if net.is_discrete(n)]
    cont = [n for n in keep if not net.is_discrete(n)]
    n_conf = count_configurations(net, disc)
    if n_conf > max_configurations:
        raise ValueError(f"exact CLG inference would enumerate {n_conf:,} configurations of the "
                         "discrete nodes "
                         f"{disc[:10]}, more than max_configurations={max_configurations:,}; raise the limit "
                         "or use likelihood_weighting")
    configs = _configurations(net, disc)
    log_prior = _log_prior(net, disc, configs)
    live = torch.isfinite(log_prior)  # configurations of prior probability 0 never contribute
    configs, log_prior = configs[live], log_prior[live]
    logw = log_prior.expand(obs.num_rows, len(configs)).clone()  # (N, K)
    for j, n in enumerate(disc):
        if n in obs.values:
            hit = obs.values[n].unsqueeze(-1) == configs[:, j]  # (N, K)
            logw = logw.masked_fill(~hit, -math.inf)
    t_cont = [n for n in targets if not net.is_discrete(n)]
    means = torch.zeros(obs.num_rows, len(configs), len(t_cont), dtype=torch.float64)
    covs = torch.zeros(len(configs), len(t_cont), len(t_cont), dtype=torch.float64)
    if cont:
        lg = linear_gaussian(net, cont, configs, disc)
        pos = {n: i for i, n in enumerate(cont)}
        ev_c = [n for n in cont if n in obs.values]
        x = (torch.stack([obs.values[n] for n in ev_c], -1) if ev_c
             else torch.zeros(obs.num_rows, 0, dtype=torch.float64))
        res = condition(lg, [pos[n] for n in ev_c], x, form)
        logw = logw + res.log_evidence.transpose(0, 1)
        hpos = {j: k for k, j in enumerate(res.hidden)}
        sel = torch.as_tensor([hpos[pos[n]] for n in t_cont], dtype=torch.long)
        means = res.mean[..., sel].transpose(0, 1)  # (N, K, T)
        covs = res.covariance[:, sel[:, None], sel]
    log_ev = torch.logsumexp(logw, -1)  # (N,)
    if not torch.isfinite(log_ev).all():
        row = int((~torch.isfinite(log_ev)).nonzero()[0])
        raise ValueError(f"the evidence has probability zero under the network (row {row}); no posterior")
    weights = (logw - log_ev.unsqueeze(-1)).exp()
    discrete = {}
    for n in targets:
        if net.is_discrete(n):
            onehot = torch.nn.functional.one_hot(configs[:, disc.index(n)], net.card(n)).to(torch.float64)
            probs = weights @ onehot  # (N, card)
            discrete[n] = probs if obs.batched else probs[0]
    method = f"exact (CLG, {len(configs)} discrete configurations, {form} form)"
    return CLGPosterior(discrete, t_cont, weights, means, covs,
                        log_ev if obs.batched else log_ev[0], obs.batched, method)
