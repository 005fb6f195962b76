"""Exact inference in all-Gaussian networks: posterior Normals, joint MultivariateNormals, evidence density.

``gaussian_posterior`` forms the network's joint Gaussian from its linear structure
(``probgen.bayesnet.hybrid.linear``), keeps the ancestors of the evidence and the query (the other
nodes are barren: summing them out changes nothing), and conditions it
(``probgen.bayesnet.hybrid.condition``) for all evidence rows at once. Rows may observe different node
sets when ``allow_missing=True`` (NaN marks a value not observed in that row): rows are grouped by observed
set and each group is conditioned once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyro.distributions as dist
import torch

from probgen.bayesnet.hybrid.condition import condition
from probgen.bayesnet.hybrid.evidence import encode_values, parse_targets
from probgen.bayesnet.hybrid.linear import LinearGaussian, linear_gaussian

__all__ = ["GaussianPosterior", "gaussian_posterior", "joint_gaussian"]


@dataclass
class GaussianPosterior:
    """The posterior over the query nodes ``nodes`` given the evidence.

    Attributes:
        nodes: the query nodes (topological order); column ``k`` of ``mean`` is ``nodes[k]``.
        mean: ``(N, T)`` posterior means (``(T,)`` for unbatched evidence).
        group_covariance: ``(G, T, T)``, the covariance of each observed set (G = 1 unless rows differ).
        group: ``(N,)`` int64, the observed set of each row.
        log_evidence: ``(N,)`` (or ``()``), the log density of the evidence, ``log p(x_E)``.
        batched: whether the evidence was given per row.
        method: how it was computed (``"exact (information form)"`` or ``"exact (moment form)"``).

    A query node observed in some rows (``allow_missing=True``) has its value as mean and variance 0 there.
    """

    nodes: list[str]
    mean: torch.Tensor
    group_covariance: torch.Tensor
    group: torch.Tensor
    log_evidence: torch.Tensor
    batched: bool
    method: str

    def _col(self, node: str) -> int:
        try:
            return self.nodes.index(node)
        except ValueError:
            raise ValueError(f"{node!r} is not a query node of this posterior; query nodes: "
                             f"{self.nodes}") from None

    @property
    def covariance(self) -> torch.Tensor:
        """``(T, T)`` when every row shares its observed set, else ``(N, T, T)``."""
        if len(self.group_covariance) == 1:
            return self.group_covariance[0]
        return self.group_covariance[self.group]

    @property
    def variance(self) -> torch.Tensor:
        """``(N, T)`` (or ``(T,)``) posterior variances."""
        var = self.group_covariance.diagonal(dim1=-2, dim2=-1)[self.group]  # (N, T)
        return var if self.batched else var[0]

    def normal(self, node: str) -> dist.Normal:
        """The posterior of one query node: ``Normal`` with batch shape ``(N,)`` (or ``()``)."""
        k = self._col(node)
        var = self.variance[..., k]
        if (var <= 0).any():
            raise ValueError(f"{node!r} is observed in some rows (variance 0 there); use .mean and .variance")
        return dist.Normal(self.mean[..., k], var.sqrt())

    def marginals(self) -> dict[str, dist.Normal]:
        """Every query node's ``Normal``."""
        return {n: self.normal(n) for n in self.nodes}

    def mvn(self, nodes=None) -> dist.MultivariateNormal:
        """The joint posterior of ``nodes`` (default all query nodes), batch ``(N,)`` (or ``()``)."""
        nodes = self.nodes if nodes is None else ([nodes] if isinstance(nodes, str) else list(nodes))
        cols = torch.as_tensor([self._col(n) for n in nodes], dtype=torch.long)
        cov = self.group_covariance[:, cols[:, None], cols]  # (G, q, q)
        chol, info = torch.linalg.cholesky_ex(cov)
        if (info != 0).any():
            raise ValueError(f"the posterior covariance of {nodes} is singular (a node observed in some "
                             "rows, or a deterministic relation); query fewer nodes")
        loc = self.mean[..., cols]
        tril = chol[self.group] if self.batched else chol[self.group[0]]
        return dist.MultivariateNormal(loc, scale_tril=tril)

    def __repr__(self) -> str:
        rows = f"{len(self.group)} rows, " if self.batched else ""
        return f"GaussianPosterior({rows}{len(self.nodes)} query nodes, {self.method})"


def joint_gaussian(net) -> LinearGaussian:
    """The network's joint Gaussian (every node, topological order), built once per network and cached."""
    lg = net._cache.get("linear_gaussian")
    if lg is None:
        if net.family != "gaussian":
            what = ("discrete nodes " + repr(net.discrete_nodes[:5]) + " (use clg_posterior)"
                    if net.family == "clg" else "softmax or neural conditionals (use likelihood_weighting)")
            raise ValueError(f"exact Gaussian inference needs every node to be a GaussianCPD without "
                             f"discrete parents; this network has {what}")
        lg = net._cache["linear_gaussian"] = linear_gaussian(net, net.nodes)
    return lg


def _evidence_matrix(obs, nodes: list[str]) -> torch.Tensor:
    if not nodes:
        return torch.zeros(obs.num_rows, 0, dtype=torch.float64)
    return torch.stack([obs.values[n].to(torch.float64) for n in nodes], -1)  # (N, e)


def gaussian_posterior(net, evidence=None, targets=None, *, form: str = "information",
                       allow_missing: bool = False) -> GaussianPosterior:
    """Exact posterior of the query nodes of an all-Gaussian network.

    Args:
        net: a ``HybridNetwork`` whose family is ``"gaussian"``.
        evidence: dict node -> number, or one number per row ``(N,)`` (all rows share the observed set,
            unless ``allow_missing``).
        targets: a node or a list of nodes; default every node not observed (in every row).
        form: ``"information"`` (precision; no dense inverse) or ``"moment"`` (covariance).
        allow_missing: let NaN in an evidence column mean "not observed in this row".

    Returns:
        A ``GaussianPosterior`` (``.normal(n)``, ``.mvn(nodes)``, ``.mean``, ``.covariance``,
        ``.log_evidence``).
    """
    lg = joint_gaussian(net)
    obs = encode_values(net, evidence, "evidence", allow_nan=allow_missing)
    ev_nodes = [n for n in net.nodes if n in obs.values]
    x = _evidence_matrix(obs, ev_nodes)  # (N, e)
    present = ~torch.isnan(x)
    always = [n for n, col in zip(ev_nodes, present.T) if bool(col.all())]
    targets = parse_targets(net, targets, always)
    keep = net.ancestral_set(ev_nodes + targets)
    index = {n: i for i, n in enumerate(net.nodes)}
    sub = lg.restrict([index[n] for n in keep])
    pos = {n: i for i, n in enumerate(keep)}
    groups, group = _groups(present)
    n_rows, n_t = obs.num_rows, len(targets)
    mean = torch.zeros(n_rows, n_t, dtype=torch.float64)
    cov = torch.zeros(len(groups), n_t, n_t, dtype=torch.float64)
    log_ev = torch.zeros(n_rows, dtype=torch.float64)
    for g, (rows, cols) in enumerate(groups):
        x_g = x[rows] if len(cols) == x.shape[1] else x[rows][:, cols]
        res = condition(sub, [pos[ev_nodes[c]] for c in cols], x_g, form)
        _scatter(res, targets, pos, rows, g, mean, cov)
        seen = {ev_nodes[c]: c for c in cols}
        for k, t in enumerate(targets):
            if t in seen:  # observed in this group: a point mass at its value
                mean[rows, k] = x[rows, seen[t]]
        log_ev[rows] = res.log_evidence
    method = f"exact ({form} form)"
    if not obs.batched:
        mean, log_ev = mean[0], log_ev[0]
    return GaussianPosterior(targets, mean, cov, group, log_ev, obs.batched, method)


def _groups(present: torch.Tensor) -> tuple[list, torch.Tensor]:
    """Rows grouped by observed set: ``[(rows, observed columns)]`` and each row's group ``(N,)``.

    ``rows`` is ``slice(None)`` when every row observes every column (the common case: no sorting)."""
    n_rows, n_cols = present.shape
    if bool(present.all()):
        return [(slice(None), list(range(n_cols)))], torch.zeros(n_rows, dtype=torch.long)
    patterns, group = torch.unique(present, dim=0, return_inverse=True)  # (G, e), (N,)
    groups = [((group == g).nonzero().squeeze(-1), pat.nonzero().squeeze(-1).tolist())
              for g, pat in enumerate(patterns)]
    return groups, group


def _scatter(res, targets, pos, rows, g, mean, cov) -> None:
    """Copy the conditioned group's hidden query columns into the result tensors."""
    hpos = {j: k for k, j in enumerate(res.hidden)}
    tk = [k for k, t in enumerate(targets) if pos[t] in hpos]
    if not tk:
        return
    sel = [hpos[pos[targets[k]]] for k in tk]
    if sel == list(range(res.mean.shape[-1])) and tk == list(range(len(targets))):
        picked, picked_cov = res.mean, res.covariance  # every hidden node is queried, in order
    else:
        sel_t = torch.as_tensor(sel, dtype=torch.long)
        picked, picked_cov = res.mean[:, sel_t], res.covariance[sel_t[:, None], sel_t]
    tk_t = torch.as_tensor(tk, dtype=torch.long)
    if isinstance(rows, slice) and len(tk) == len(targets):
        mean[rows] = picked
    else:
        mean[rows if isinstance(rows, slice) else rows[:, None], tk_t] = picked
    cov[g, tk_t[:, None], tk_t] = picked_cov
