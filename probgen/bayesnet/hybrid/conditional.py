"""Samples of every node given evidence, for ``BayesNet.sample(n, evidence=...)``.

In a network of linear Gaussians the hidden nodes' posterior is a multivariate normal, drawn from exactly.
Otherwise, when no observed node has an unobserved ancestor (evidence on roots, such as the class ``y`` of
the conditional VAE), clamping the observed nodes and sampling the others forward in topological order draws
exactly from the posterior: the likelihood weights are all equal. Otherwise the draws are weighted by the
observed nodes' densities (likelihood weighting) and ``n`` of them are resampled in proportion to their
weights (sampling-importance-resampling, Rubin 1988): approximate, with the effective sample size of the
pool reported; the approximation improves with ``num_proposals``.
"""

from __future__ import annotations

import torch

from probgen.bayesnet.hybrid.evidence import encode_values
from probgen.bayesnet.hybrid.lw import _draw
from probgen.bayesnet.hybrid.program import forward_sample
from probgen.checks import check_int

__all__ = ["Samples", "sample_given"]


class Samples(dict):
    """node -> draws ``(n, ...)``; ``.method`` (``"forward"``, ``"forward, evidence clamped"`` or
    ``"sampling-importance-resampling"``), ``.reason`` and ``.ess`` (of the weighted pool, else None)."""

    def __init__(self, items, method: str, reason: str, ess: float | None = None) -> None:
        super().__init__(items)
        self.method, self.reason, self.ess = method, reason, ess


def sample_given(net, num_samples: int, evidence=None, num_proposals: int | None = None) -> Samples:
    """``num_samples`` joint draws of every node of ``net`` (a ``HybridNetwork``) given ``evidence`` (one
    value per observed node; observed nodes repeat their value)."""
    num_samples = check_int("num_samples", num_samples, 1)
    if not evidence:
        return Samples(forward_sample(net, num_samples), "forward", "no evidence: ancestral sampling")
    obs = encode_values(net, evidence, "evidence")
    if obs.batched:
        raise ValueError("sample(evidence=...) takes one value per observed node, not rows; call it once "
                         "per evidence row")
    upstream = [n for n in net.ancestral_set(obs.nodes) if n not in obs.values]
    if upstream and net.family == "gaussian":
        return _gaussian_draws(net, num_samples, obs)
    with torch.no_grad():
        if not upstream:
            values, _ = _draw(net, net.nodes, obs, num_samples)
            return Samples(_rows(net, values, obs, torch.arange(num_samples), num_samples),
                           "forward, evidence clamped",
                           "no observed node has an unobserved ancestor: clamping the evidence and sampling "
                           "forward is exact")
        pool = check_int("num_proposals", num_proposals or max(10 * num_samples, 10_000), 1)
        values, logw = _draw(net, net.nodes, obs, pool)
        logw = logw[:, 0]
        if not torch.isfinite(logw).any():
            raise ValueError("every proposal has weight 0: the evidence is impossible under the network, or "
                             "too unlikely for sampling from the prior")
        w = (logw - logw.max()).exp()
        ess = float(w.sum() ** 2 / (w**2).sum())
        idx = torch.multinomial(w, num_samples, replacement=True)
    return Samples(_rows(net, values, obs, idx, num_samples), "sampling-importance-resampling",
                   f"observed nodes have unobserved ancestors {upstream[:5]}: {pool:,} forward draws "
                   "weighted by the evidence's likelihood, resampled (approximate)", ess)


def _gaussian_draws(net, n: int, obs) -> Samples:
    """Exact draws of a Gaussian network's hidden nodes from their joint posterior (one MVN)."""
    from probgen.bayesnet.hybrid.gaussian import gaussian_posterior

    hidden = [m for m in net.nodes if m not in obs.values]
    evidence = {m: v[0] for m, v in obs.values.items()}
    post = gaussian_posterior(net, evidence, hidden)
    draws = post.mvn().sample((n,)) if hidden else torch.zeros(n, 0, dtype=torch.float64)
    out = {}
    for m in net.nodes:
        out[m] = (obs.values[m][0].expand(n).clone() if m in obs.values
                  else draws[:, post.nodes.index(m)])
    return Samples(out, "exact (Gaussian posterior)",
                   "every node is a linear Gaussian: the hidden nodes are drawn from their joint posterior, "
                   "a multivariate normal")


def _rows(net, values: dict, obs, idx: torch.Tensor, n: int) -> dict:
    out = {}
    for node in net.nodes:
        v = values[node]
        if node in obs.values:  # (1, ...): the clamped value, repeated
            out[node] = v[0].expand(n, *v.shape[1:]).clone()
        else:  # (S, 1, ...)
            out[node] = v[idx, 0]
    return out
