"""Approximate inference by likelihood weighting, for networks too large for exact inference.

Likelihood weighting (Fung and Chang 1990; Shachter and Peot 1990) samples every unobserved node from its
CPT given its sampled parents, in topological order, clamps each observed node to its value and weights
the sample by the product of the observed nodes' CPT entries. The weighted state frequencies estimate the
posterior marginals, the mean weight estimates P(e), and Kish's effective sample size
``(sum w)^2 / sum w^2`` says how many independent draws the weighted ones are worth: it collapses when
the evidence is unlikely under the prior, which is when exact inference should be preferred.

All samples (and, for per-row evidence, all rows) are drawn at once as tensor operations, in chunks that
bound memory; only the nodes that are ancestors of the evidence or of the targets are sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from probgen.bayesnet.exact.compiled import compiled
from probgen.bayesnet.exact.evidence import check_dtype, observe, parse_targets
from probgen.bayesnet.exact.plan import relevant_nodes
from probgen.bayesnet.model.sampling import check_generator
from probgen.checks import check_int
from probgen.threads import torch_threads

__all__ = ["LikelihoodWeighting", "likelihood_weighting"]

CHUNK_ENTRIES = 2**24  # rows x samples x states gathered at once (128 MiB of float64)


@dataclass
class LikelihoodWeighting:
    """The result of :func:`likelihood_weighting`.

    Attributes:
        marginals: node -> estimated P(node | e), ``(card,)`` or ``(N, card)`` for per-row evidence.
        ess: effective sample size ``(sum w)^2 / sum w^2``, ``()`` or ``(N,)``.
        log_evidence: log of the mean weight, an unbiased estimate of P(e) in the linear domain.
        num_samples: samples drawn per row.
    """

    marginals: dict[str, torch.Tensor]
    ess: torch.Tensor
    log_evidence: torch.Tensor
    num_samples: int

    def __repr__(self) -> str:
        ess = self.ess.min().item() if self.ess.numel() else float("nan")
        return (
            f"LikelihoodWeighting({len(self.marginals)} marginals, num_samples={self.num_samples}, "
            f"min ess={ess:.1f})"
        )


def likelihood_weighting(
    bn,
    evidence=None,
    targets=None,
    *,
    num_samples: int = 10_000,
    generator: torch.Generator | None = None,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> LikelihoodWeighting:
    """Posterior marginals by likelihood weighting.

    Args:
        bn: the network (a :class:`~probgen.bayesnet.BayesNet`).
        evidence: as for exact inference (``probgen.bayesnet.exact.queries.posterior``): states, or one
            value per row, e.g. int64 tensors ``(N,)`` (-1 = unobserved in that row).
        targets: a node or list of nodes; default: every node not in ``evidence``.
        num_samples: weighted samples per evidence row.
        generator: a ``torch.Generator`` for reproducible draws (on ``device``).
        device: where to sample (default: the evidence tensors' device, else the CPU).
        dtype: floating type of the weights and marginals.

    Returns:
        A :class:`LikelihoodWeighting` with ``marginals``, ``ess`` and ``log_evidence``.

    Raises:
        ValueError: bad evidence or targets (as for exact inference), or a row where every sample has
            weight zero (evidence impossible, or too unlikely for ``num_samples``).
    """
    num_samples = check_int("num_samples", num_samples, 1)
    check_dtype(dtype)
    net = compiled(bn)
    obs, device = observe(net, evidence, device)
    check_generator(generator, device)
    tids = parse_targets(net, targets, obs)
    codes = (
        obs.codes if obs.batched else torch.tensor([obs.codes], dtype=torch.int64, device=device)
    )  # (R, k)
    rows = codes.shape[0]
    state = _Accumulator(net, tids, rows, device, dtype)
    chunk = max(1, CHUNK_ENTRIES // max(1, rows * max(net.cards)))
    done = 0
    with torch_threads(rows * num_samples * len(net.cards) * max(net.cards), kind="memory"):
        while done < num_samples:
            s = min(chunk, num_samples - done)
            x, log_w = _sample_chunk(net, obs, codes, tids, s, generator, device, dtype)
            state.add(x, log_w)
            done += s
    marginals, ess, log_evidence = state.result(num_samples, net, obs)
    if not obs.batched:
        marginals = {k: m[0] for k, m in marginals.items()}
        ess, log_evidence = ess[0], log_evidence[0]
    return LikelihoodWeighting(marginals, ess, log_evidence, num_samples)


def _tables(net, device, dtype):
    """Per node: flat CPT ``(configs, card)``, its inverse-CDF bounds ``(configs, card - 1)``, strides."""

    def build():
        out = []
        for v, cpt in enumerate(net.cpts):
            card = net.cards[v]
            flat = cpt.reshape(-1, card).to(device=device, dtype=dtype)  # (configs, card)
            cdf = flat.cumsum(-1) / flat.sum(-1, keepdim=True)
            after = flat.flip(-1).cumsum(-1).flip(-1)  # mass at or after each state
            # where no mass follows state k, its bound is +inf: a draw never passes into zero-mass states
            bounds = torch.where(after[:, 1:] <= 0, torch.full_like(cdf[:, :-1], math.inf), cdf[:, :-1])
            pcards = [net.cards[p] for p in net.parents[v]]
            strides = [math.prod(pcards[i + 1 :]) for i in range(len(pcards))]
            out.append((flat.log(), bounds, strides))
        return out

    return net.derived(("lw", str(device), dtype), build)


def _sample_chunk(net, obs, codes, tids, s, generator, device, dtype):
    """``s`` weighted samples per row: node -> int64 ``(R, s)`` for sampled nodes, and log w ``(R, s)``.

    ``codes`` ``(R, k)`` holds the observed states of each row (-1 = unobserved)."""
    tables = _tables(net, device, dtype)
    col_of = {v: c for c, v in enumerate(obs.nodes)}
    clamped = {v for v, f in zip(obs.nodes, obs.full) if f}  # observed in every row: never drawn
    rows = codes.shape[0]
    x: dict[int, torch.Tensor] = {}
    log_w = torch.zeros(rows, s, device=device, dtype=dtype)
    for v in relevant_nodes(net.parents, set(obs.nodes) | set(tids)):
        log_flat, bounds, strides = tables[v]
        idx = torch.zeros(rows, s, dtype=torch.int64, device=device)  # flat parent configuration
        for p, st in zip(net.parents[v], strides):
            idx += x[p] * st
        draw = None
        if bounds.shape[1] and v not in clamped:
            u = torch.rand(rows, s, 1, generator=generator, device=device, dtype=dtype)
            draw = (u >= bounds[idx]).sum(-1)  # (R, s)
        elif bounds.shape[1] == 0:
            draw = torch.zeros(rows, s, dtype=torch.int64, device=device)
        if v in col_of:
            seen_codes = codes[:, col_of[v], None].expand(rows, s)  # (R, s), -1 where unobserved
            seen = seen_codes >= 0
            val = seen_codes if draw is None else torch.where(seen, seen_codes, draw)
            log_p = log_flat.reshape(-1)[idx * net.cards[v] + val.clamp(min=0)]
            log_w = log_w + torch.where(seen, log_p, torch.zeros_like(log_p))
            x[v] = val
        else:
            x[v] = draw
    return x, log_w


class _Accumulator:
    """Weighted counts, sum w and sum w^2 per row, kept relative to a running max of log w."""

    def __init__(self, net, tids, rows, device, dtype):
        self.tids = tids
        self.top = torch.full((rows,), -math.inf, device=device, dtype=dtype)
        self.sw = torch.zeros(rows, device=device, dtype=dtype)
        self.sw2 = torch.zeros(rows, device=device, dtype=dtype)
        self.counts = {v: torch.zeros(rows, net.cards[v], device=device, dtype=dtype) for v in tids}

    def add(self, x, log_w):  # x: node -> (R, s); log_w: (R, s)
        new_top = torch.maximum(self.top, log_w.amax(-1))  # (R,)
        safe = torch.where(torch.isfinite(new_top), new_top, torch.zeros_like(new_top))
        old = torch.exp(self.top - safe)  # (R,) rescales what was accumulated so far
        w = torch.exp(log_w - safe[:, None])  # (R, s)
        self.sw = self.sw * old + w.sum(-1)
        self.sw2 = self.sw2 * old**2 + (w * w).sum(-1)
        for v in self.tids:
            self.counts[v] = self.counts[v] * old[:, None]
            self.counts[v].scatter_add_(-1, x[v], w)
        self.top = new_top

    def result(self, num_samples, net, obs):
        dead = ~(self.sw > 0)
        if bool(dead.any()):
            b = int(dead.nonzero()[0, 0])
            raise ValueError(
                f"likelihood weighting: every one of {num_samples} samples has weight zero for the evidence "
                f"{obs.row(net, b) if obs.batched else obs.row(net, 0)}"
                f"{f' (row {b})' if obs.batched else ''}: it is impossible or too unlikely; "
                "use exact inference (probgen.bayesnet.exact.queries.posterior) or more samples"
            )
        marginals = {net.names[v]: self.counts[v] / self.sw[:, None] for v in self.tids}
        ess = self.sw**2 / self.sw2
        log_evidence = self.sw.log() + self.top - math.log(num_samples)
        return marginals, ess, log_evidence
