"""A hybrid network as a Pyro program, ancestral sampling, and the log joint density of complete rows.

The program runs one ``pyro.sample(node, ...)`` per node in topological order under
``pyro.plate("rows", N, dim=-1)``; observed nodes are conditioned with ``obs``. Tables are indexed with
``Vindex`` and the other conditionals broadcast their parents' values, so discrete sites may be
enumerated (``config_enumerate``, ``TraceEnum_ELBO``, NUTS with enumeration): ``Predictive``,
``poutine.condition``, SVI and NUTS run on it unchanged. NeuralCPD modules are registered with
``pyro.module`` (named ``"cpd_<node>"``) so SVI trains them.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.ops.indexing import Vindex

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid.evidence import encode_values
from probgen.bayesnet.model.neural_cpd import NeuralCPD
from probgen.checks import check_int

__all__ = ["forward_sample", "hybrid_model", "log_joint", "node_distribution"]


def node_distribution(net, node: str, values: dict) -> dist.Distribution:
    """The distribution of ``node`` given its parents' values in ``values`` (batch = their broadcast)."""
    cpd = net.cpds[node]
    if isinstance(cpd, TabularCPD):
        # logits = log(probs), so that a zero-probability entry scores -inf (torch clamps probs to eps)
        logits = _log_table(net, node)
        if cpd.parents:
            logits = Vindex(logits)[tuple(values[p] for p in cpd.parents) + (slice(None),)]
        return dist.Categorical(logits=logits)
    return cpd.distribution(values)


def _log_table(net, node: str) -> torch.Tensor:
    cache = net._cache.setdefault("log_tables", {})
    if node not in cache:
        cache[node] = net.cpds[node].probs.log()
    return cache[node]


def _num_rows(data: dict, num_rows) -> int:
    """N from the data's columns, else ``num_rows`` (default 1); a disagreement is a ValueError."""
    if not data:
        return 1 if num_rows is None else check_int("num_rows", num_rows, 1)
    n = len(next(iter(data.values())))
    if num_rows is not None and check_int("num_rows", num_rows, 1) != n:
        raise ValueError(f"`num_rows` ({num_rows}) disagrees with the data's {n} rows")
    return n


def hybrid_model(net, data=None, num_rows: int | None = None) -> dict[str, torch.Tensor]:
    """Run the network's Pyro program; returns dict node -> value.

    Args:
        net: a ``HybridNetwork``.
        data: dict node -> observed values, one per row (see ``encode_values``: state names or indices
            for discrete nodes, numbers for continuous ones); the other nodes are sampled.
        num_rows: N when there is no data (default 1).
    """
    data = encode_values(net, data, "data").values if data else {}
    n = _num_rows(data, num_rows)
    values: dict[str, torch.Tensor] = {}
    with pyro.plate("rows", n, dim=-1):
        for node in net.nodes:
            cpd = net.cpds[node]
            if isinstance(cpd, NeuralCPD):
                pyro.module(f"cpd_{node}", cpd.module)
            values[node] = pyro.sample(node, node_distribution(net, node, values), obs=data.get(node))
    return values


def forward_sample(net, num_samples: int, nodes=None) -> dict[str, torch.Tensor]:
    """Ancestral samples of ``nodes`` (default all; their ancestors are drawn too), without Pyro.

    Returns:
        dict node -> ``(num_samples,)`` int64 states / float values, or ``(num_samples, *event_shape)``.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be a positive int, got {num_samples!r}")
    todo = net.nodes if nodes is None else net.ancestral_set(nodes)
    values: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for node in todo:
            d = node_distribution(net, node, values)
            if not net.cpds[node].parents:  # roots: one draw per row
                values[node] = d.sample((num_samples,))
            else:
                values[node] = d.sample()
    return values


def log_joint(net, values) -> torch.Tensor:
    """``sum_n log p(x_n | parents)`` for complete rows: float64 ``(N,)`` (computed without Pyro)."""
    obs = encode_values(net, values, "values")
    missing = [n for n in net.nodes if n not in obs.values]
    if missing:
        raise ValueError(f"log_prob needs every node; missing {missing}")
    total = torch.zeros(obs.num_rows, dtype=torch.float64)
    for node in net.nodes:
        total = total + node_distribution(net, node, obs.values).log_prob(obs.values[node]).to(torch.float64)
    return total
