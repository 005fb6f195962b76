"""The joint Gaussian of a linear Gaussian network, in moment and information form.

Nodes in topological order with ``x_i = b_i + sum_j B_ij x_j + e_i``, ``e_i ~ N(0, D_i)`` independent, make
``x = b + B x + e`` with ``B`` strictly lower triangular, so ``(I - B) x = b + e`` and

    mean        mu     = (I - B)^-1 b                 (a unit-triangular solve)
    covariance  Sigma  = (I - B)^-1 D (I - B)^-T
    precision   Lambda = (I - B)^T D^-1 (I - B)       (no inverse at all; as sparse as the moral graph)

(Shachter and Kenley, "Gaussian influence diagrams", Management Science 35, 1989; Koller and Friedman,
Probabilistic Graphical Models, 2009, theorem 7.3). A conditional linear Gaussian network gives one such
joint per configuration of its discrete nodes; ``LinearGaussian`` carries them along leading axes.
Everything is float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from probgen.bayesnet.model.gaussian_cpd import GaussianCPD, take

LOG_2PI = math.log(2 * math.pi)


@dataclass
class LinearGaussian:
    """``x = bias + weights @ x + noise``, ``noise ~ N(0, diag(variance))``, nodes in topological order.

    Attributes:
        nodes: the continuous nodes, topological order.
        bias: ``(*config, n)``.
        weights: ``(*config, n, n)``; ``weights[..., i, j]`` is the coefficient of ``nodes[j]`` in the mean of
            ``nodes[i]`` (strictly lower triangular).
        variance: ``(*config, n)``, conditional variances (> 0).
    """

    nodes: list[str]
    bias: torch.Tensor
    weights: torch.Tensor
    variance: torch.Tensor
    _memo: dict = field(default_factory=dict, repr=False, compare=False)  # mean, covariance, precision

    def _cached(self, key: str, build):
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    @property
    def n(self) -> int:
        return len(self.nodes)

    def _i_minus_b(self) -> torch.Tensor:
        eye = torch.eye(self.n, dtype=self.weights.dtype)
        return eye - self.weights  # (*config, n, n)

    def mean(self) -> torch.Tensor:
        """``(*config, n)``: solve ``(I - B) mu = b`` (computed once)."""
        return self._cached("mean", self._mean)

    def covariance(self) -> torch.Tensor:
        """``(*config, n, n)``: ``A D A^T`` with ``A = (I - B)^-1`` (a triangular solve; computed once)."""
        return self._cached("covariance", self._covariance)

    def precision(self) -> torch.Tensor:
        """``(*config, n, n)``: ``U^T U`` with ``U = D^-1/2 (I - B)`` (computed once)."""
        return self._cached("precision", self._precision)

    def _mean(self) -> torch.Tensor:
        mu = torch.linalg.solve_triangular(self._i_minus_b(), self.bias.unsqueeze(-1), upper=False,
                                           unitriangular=True)
        return mu.squeeze(-1)

    def _covariance(self) -> torch.Tensor:
        eye = torch.eye(self.n, dtype=self.weights.dtype).expand_as(self.weights)
        a = torch.linalg.solve_triangular(self._i_minus_b(), eye, upper=False, unitriangular=True)
        cov = (a * self.variance.unsqueeze(-2)) @ a.transpose(-1, -2)
        return (cov + cov.transpose(-1, -2)) / 2

    def _precision(self) -> torch.Tensor:
        u = self._i_minus_b() / self.variance.sqrt().unsqueeze(-1)
        return u.transpose(-1, -2) @ u

    def restrict(self, idx: list[int]) -> LinearGaussian:
        """The joint of ``nodes[idx]``, valid when ``idx`` (ascending) is closed under taking parents."""
        if list(idx) == list(range(self.n)):
            return self
        t = torch.as_tensor(idx, dtype=torch.long)
        w = self.weights.index_select(-1, t).index_select(-2, t)
        out = LinearGaussian([self.nodes[i] for i in idx], self.bias.index_select(-1, t), w,
                             self.variance.index_select(-1, t))
        # the marginal of an ancestral set: mean and covariance are sub-blocks (the precision is not)
        if "mean" in self._memo:
            out._memo["mean"] = self._memo["mean"].index_select(-1, t)
        if "covariance" in self._memo:
            out._memo["covariance"] = self._memo["covariance"].index_select(-1, t).index_select(-2, t)
        return out


def linear_gaussian(net, nodes: list[str], configs: torch.Tensor | None = None,
                    discrete: list[str] | None = None) -> LinearGaussian:
    """The joint Gaussian of the continuous ``nodes`` (topological, closed under continuous parents).

    Args:
        net: a ``HybridNetwork``; every node in ``nodes`` has a ``GaussianCPD``.
        nodes: the continuous nodes to include.
        configs: ``(K, len(discrete))`` int64 states of the discrete nodes ``discrete``, one row per
            configuration (CLG); the result then has a leading axis K. None when no node has discrete
            parents.
        discrete: the discrete nodes indexed by ``configs``' columns.
    """
    pos = {n: i for i, n in enumerate(nodes)}
    dpos = {n: i for i, n in enumerate(discrete or [])}
    lead = () if configs is None else (len(configs),)
    n = len(nodes)
    bias = torch.zeros(*lead, n, dtype=torch.float64)
    weights = torch.zeros(*lead, n, n, dtype=torch.float64)
    variance = torch.zeros(*lead, n, dtype=torch.float64)
    for i, node in enumerate(nodes):
        cpd = net.cpds[node]
        if not isinstance(cpd, GaussianCPD):
            raise ValueError(f"node {node!r} has a {type(cpd).__name__}; the Gaussian engine needs a "
                             "GaussianCPD on every continuous node (use likelihood weighting or NUTS)")
        missing = [p for p in cpd.discrete_parents if p not in dpos]
        if missing:
            raise ValueError(f"node {node!r} has discrete parents {missing}: a CLG network, not a "
                             "Gaussian one (use clg_posterior)")
        idx = tuple(configs[:, dpos[p]] for p in cpd.discrete_parents)
        bias[..., i] = take(cpd.bias, idx)
        variance[..., i] = take(cpd.variance, idx)
        w = take(cpd.weights, idx, 1)  # (*lead, m)
        for j, p in enumerate(cpd.continuous_parents):
            if p not in pos:
                raise ValueError(f"parent {p!r} of {node!r} is missing from the node list; pass an ancestral "
                                 "set")
            weights[..., i, pos[p]] = w[..., j]
    return LinearGaussian(list(nodes), bias, weights, variance)
