"""Likelihood weighting for any hybrid network (tables, Gaussians, softmax links, neural conditionals).

Every unobserved node (among the ancestors of the evidence and the query) is drawn from its conditional
given its sampled parents, in topological order; each observed node is clamped to its value and the draw
is weighted by the observed nodes' conditional densities (Fung and Chang 1990; Shachter and Peot 1990).
The weighted averages estimate posterior probabilities, means and variances; the mean weight estimates
``p(e)``; Kish's effective sample size ``(sum w)^2 / sum w^2`` says how many independent draws the weighted
ones are worth (it collapses when the evidence is unlikely under the prior). The error of the estimates
falls as ``1 / sqrt(num_samples)``.

Samples of all evidence rows are drawn at once, ``(S, N)``, in chunks of samples that bound memory.
Draws use torch's global generator: seed it (``probgen.seed``) for reproducible results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from probgen.bayesnet.hybrid.evidence import encode_values, parse_targets
from probgen.bayesnet.hybrid.program import node_distribution
from probgen.checks import check_int

__all__ = ["LWPosterior", "likelihood_weighting"]

CHUNK_ENTRIES = 2**22  # samples x rows x node entries drawn at once (32 MiB of float64)


@dataclass
class LWPosterior:
    """Estimates from likelihood weighting.

    Attributes:
        discrete: discrete query node -> ``(N, card)`` weighted state frequencies (``(card,)`` unbatched).
        mean: continuous query node -> ``(N, *event_shape)`` weighted means.
        variance: continuous query node -> weighted variances (same shape).
        ess: ``(N,)`` effective sample size (or ``()``).
        log_evidence: ``(N,)`` log of the mean weight (its exponential is an unbiased estimate of p(e)).
        num_samples: weighted draws per row.
        method: ``"likelihood weighting"``.
    """

    discrete: dict[str, torch.Tensor]
    mean: dict[str, torch.Tensor]
    variance: dict[str, torch.Tensor]
    ess: torch.Tensor
    log_evidence: torch.Tensor
    num_samples: int
    method: str = "likelihood weighting"

    def probs(self, node: str) -> torch.Tensor:
        if node not in self.discrete:
            raise ValueError(f"{node!r} is not a discrete query node; they are {list(self.discrete)}")
        return self.discrete[node]

    def __repr__(self) -> str:
        ess = self.ess.min().item() if self.ess.numel() else float("nan")
        return (f"LWPosterior({len(self.discrete) + len(self.mean)} query nodes, num_samples="
                f"{self.num_samples}, min ess={ess:.1f})")


def _draw(net, keep, obs, n_samples: int) -> tuple[dict, torch.Tensor]:
    """One chunk: values of the kept nodes ``(S, N, ...)`` (observed ones ``(N, ...)``), log weights
    ``(S, N)``."""
    shape = torch.Size((n_samples, obs.num_rows))
    values, logw = {}, torch.zeros(shape, dtype=torch.float64)
    for node in keep:
        d = node_distribution(net, node, values)
        if node in obs.values:
            values[node] = obs.values[node]
            logw = logw + d.log_prob(values[node]).to(torch.float64)
        else:
            if tuple(d.batch_shape) != tuple(shape):
                d = d.expand(shape)
            values[node] = d.sample()
    return values, logw


def _chunk_stats(net, targets, values, logw) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Within-chunk ``logsumexp(logw)``, ``logsumexp(2 logw)`` and normalised weighted moments."""
    lse = torch.logsumexp(logw, 0)  # (N,)
    w = (logw - lse).exp()  # (S, N); NaN where every weight is 0
    stats = {}
    for n in targets:
        v = values[n]
        if net.is_discrete(n):
            onehot = torch.nn.functional.one_hot(v, net.card(n)).to(torch.float64)
            stats[n] = ((w.unsqueeze(-1) * onehot).sum(0),)
        else:
            wv = w.reshape(*w.shape, *([1] * (v.ndim - 2)))
            v = v.to(torch.float64)
            stats[n] = ((wv * v).sum(0), (wv * v * v).sum(0))
    return lse, torch.logsumexp(2 * logw, 0), stats


def likelihood_weighting(net, evidence=None, targets=None, *, num_samples: int = 10_000) -> LWPosterior:
    """Posterior estimates by likelihood weighting (importance sampling with the prior as proposal).

    Args:
        net: any ``HybridNetwork``.
        evidence: dict node -> value, or one value per row ``(N,)``; all rows observe the same nodes.
        targets: a node or a list of nodes; default every unobserved node.
        num_samples: weighted draws per evidence row.

    Returns:
        An ``LWPosterior`` with ``discrete``, ``mean``, ``variance``, ``ess`` and ``log_evidence``.
    """
    num_samples = check_int("num_samples", num_samples, 1)
    obs = encode_values(net, evidence, "evidence")
    targets = parse_targets(net, targets, obs.nodes)
    keep = net.ancestral_set(obs.nodes + targets)
    width = sum(max(1, math.prod(net.variables[n].event_shape)) for n in keep)
    chunk = max(1, min(num_samples, CHUNK_ENTRIES // max(1, obs.num_rows * width)))
    parts = []
    with torch.no_grad():
        for start in range(0, num_samples, chunk):
            values, logw = _draw(net, keep, obs, min(chunk, num_samples - start))
            parts.append(_chunk_stats(net, targets, values, logw))
    return _combine(net, targets, parts, obs, num_samples)


def _combine(net, targets, parts, obs, num_samples: int) -> LWPosterior:
    lses = torch.stack([p[0] for p in parts])  # (C, N)
    total = torch.logsumexp(lses, 0)  # (N,)
    if not torch.isfinite(total).all():
        row = int((~torch.isfinite(total)).nonzero()[0])
        raise ValueError(f"every likelihood-weighting draw has weight 0 in evidence row {row}: the "
                         "evidence is "
                         "impossible under the network, or too unlikely for sampling from the prior")
    share = (lses - total).exp()  # (C, N)
    ess = (2 * total - torch.logsumexp(torch.stack([p[1] for p in parts]), 0)).exp()
    discrete, mean, variance = {}, {}, {}
    for n in targets:
        moments = []
        for i in range(len(parts[0][2][n])):
            acc = 0
            for c, p in enumerate(parts):
                s = share[c].reshape(-1, *([1] * (p[2][n][i].ndim - 1)))
                acc = acc + torch.nan_to_num(p[2][n][i]) * s
            moments.append(acc)
        if net.is_discrete(n):
            discrete[n] = moments[0]
        else:
            mean[n], variance[n] = moments[0], (moments[1] - moments[0] ** 2).clamp_min(0)
    log_ev = total - math.log(num_samples)
    if not obs.batched:  # one query: drop the row axis
        discrete, mean, variance = ({k: v[0] for k, v in d.items()} for d in (discrete, mean, variance))
        ess, log_ev = ess[0], log_ev[0]
    return LWPosterior(discrete, mean, variance, ess, log_ev, num_samples)
