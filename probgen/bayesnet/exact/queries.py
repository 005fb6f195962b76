"""Exact inference in Bayesian networks: posterior marginals, P(e) and the most probable explanation.

Every function takes a network (a :class:`~probgen.bayesnet.BayesNet`, or anything with its accessors)
and evidence ``{node: value}``. A value is a state name or index (one query), or one value per row, e.g.
an int64 tensor of shape ``(N,)`` (``-1`` = not observed in that row; see ``evidence.py``); per-row
evidence is answered for all rows at once, the row being a tensor dimension.

How: variable elimination along a greedy (min-fill, weighted min-fill or min-weight) order of the moral
graph, two tables at a time, with observed axes sliced away and barren nodes pruned
(``plan.py``); all marginals come from one backward pass through the contraction (Darwiche 2003,
``contract.py``). Plans are cached per network and query pattern (all
single-row queries share one), so repeated queries cost only the tensor work; repeated evidence rows are
computed once.

References:
    A. Darwiche. A differential approach to inference in Bayesian networks. JACM 50(3), 2003.
    R. Dechter. Bucket elimination: a unifying framework for reasoning. Artificial Intelligence, 1999.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import torch

from probgen.bayesnet.exact.compiled import compiled
from probgen.bayesnet.exact.contract import (
    ZeroEvidence,
    contract_max,
    contract_sum,
    dense_lambdas,
    make_lambdas,
)
from probgen.bayesnet.exact.evidence import Observations, check_dtype, num_rows, observe, parse_targets
from probgen.bayesnet.exact.plan import Plan, build_plan, dense_plan, relevant_nodes
from probgen.bayesnet.model.limits import MAX_TABLE_SIZE, check_max_table_size, format_bytes
from probgen.errors import ProbgenError
from probgen.threads import torch_threads

__all__ = [
    "posterior",
    "probability",
    "log_probability",
    "map_assignment",
    "InferenceTooLargeError",
    "MAX_TABLE_SIZE",
    "MEMORY_BUDGET",
]

MEMORY_BUDGET = 2**30  # bytes of tables kept for the backward pass; more rows are done in chunks
DENSE_MAX_FLOPS = 1e8  # above this, single-row queries get a plan of their own (sliced and pruned)


class InferenceTooLargeError(ProbgenError):
    """Exact inference on this network would need a table larger than allowed."""


def _threaded(fn):
    """Run ``fn(bn, evidence, ...)`` with the thread count of ``probgen.threads`` for its work, estimated
    as three passes over the network's cliques per row: one thread for any single query (thousands of
    small kernels) and for small batches, the spare cores for large batches."""

    @functools.wraps(fn)
    def wrapper(bn, evidence=None, *args, **kw):
        with torch_threads(3 * compiled(bn).total * num_rows(evidence), kind="contract"):
            return fn(bn, evidence, *args, **kw)

    return wrapper


@_threaded
def posterior(bn, evidence=None, targets=None, *, device=None, dtype: torch.dtype = torch.float64,
              max_table_size: float = MAX_TABLE_SIZE) -> dict[str, torch.Tensor]:
    """Exact posterior marginals P(node | evidence).

    Args:
        bn: the network.
        evidence: ``{node: state}`` or ``{node: int64 tensor (N,)}`` (see the module docstring).
        targets: a node or list of nodes; default: every node not in ``evidence``.
        device: where to compute (default: where the evidence tensors are, else the CPU).
        dtype: ``torch.float64`` (default) or ``torch.float32``.
        max_table_size: refuse (with :class:`InferenceTooLargeError`) when a table would exceed this.

    Returns:
        ``{node: tensor}`` in ``targets`` order, each ``(card,)`` for single evidence or ``(N, card)``
        for per-row evidence; an observed target gets its one-hot indicator.

    Raises:
        ValueError: unknown node or state, per-row tensors of different lengths, or evidence with
            probability zero (naming the row).
    """
    net, obs, device = _observe(bn, evidence, device)
    tids = parse_targets(net, targets, obs)
    if obs.batched and obs.num_rows == 0:
        return {net.names[v]: torch.zeros(0, net.cards[v], device=device, dtype=dtype) for v in tids}
    query = _Query(net, obs, tids, "sum", device, dtype, max_table_size)
    out: dict[int, list[torch.Tensor]] = {v: [] for v in tids}
    with torch.no_grad():
        for lo, hi, codes in query.chunks():
            lams = query.lambdas(codes, hi - lo, log=False)
            try:
                _, marg = contract_sum(query.plan, query.tables, codes, hi - lo, lams, set(tids))
            except ZeroEvidence as e:
                _zero_error(net, obs, e.rows + lo, query.inverse)
            _collect(out, marg, query.obs, codes, tids, net.cards, device, dtype)
    margs = [torch.cat(ts) if len(ts) > 1 else ts[0] for ts in out.values()]
    if query.inverse is not None and margs:  # back to all rows: one gather for every target at once
        margs = torch.cat(margs, 1)[query.inverse].split([m.shape[1] for m in margs], 1)
    return {net.names[v]: m for v, m in zip(out, margs)}


@_threaded
def log_probability(bn, evidence=None, *, device=None, dtype: torch.dtype = torch.float64,
                    max_table_size: float = MAX_TABLE_SIZE) -> torch.Tensor:
    """log P(evidence): a 0-d tensor, or ``(N,)`` for per-row evidence (``-inf`` where impossible).

    Only the evidence nodes and their ancestors are contracted, and the result is carried in log space,
    so it stays finite far below float64's smallest positive number.
    """
    net, obs, device = _observe(bn, evidence, device)
    if obs.batched and obs.num_rows == 0:
        return torch.zeros(0, device=device, dtype=dtype)
    query = _Query(net, obs, [], "sum", device, dtype, max_table_size)
    parts = []
    with torch.no_grad():
        for lo, hi, codes in query.chunks():
            lams = query.lambdas(codes, hi - lo, log=False)
            parts.append(contract_sum(query.plan, query.tables, codes, hi - lo, lams, marginals=False)[0])
    return query.expand(torch.cat(parts) if len(parts) > 1 else parts[0])


def probability(bn, evidence=None, **kw) -> torch.Tensor:
    """P(evidence): a 0-d tensor, or ``(N,)`` for per-row evidence. Keywords as :func:`log_probability`."""
    return log_probability(bn, evidence, **kw).exp()


@_threaded
def map_assignment(bn, evidence=None, *, device=None, dtype: torch.dtype = torch.float64,
                   max_table_size: float = MAX_TABLE_SIZE, return_log_prob: bool = False):
    """The most probable explanation: argmax over the unobserved nodes x of P(x, evidence).

    Max-product variable elimination in log space; the maximiser is read off the backward pass.

    Returns:
        ``{node: state name}`` for single evidence, ``{node: int64 tensor (N,)}`` of state indices for
        per-row evidence (a node observed in some rows keeps its observed value there), covering every
        node not observed in all rows. With ``return_log_prob=True``, a pair ``(assignment, log P(x, e))``.

    Raises:
        ValueError: as :func:`posterior`, including evidence of probability zero.
    """
    net, obs, device = _observe(bn, evidence, device)
    observed = {v for v, f in zip(obs.nodes, obs.full) if f}
    tids = [v for v in range(len(net.names)) if v not in observed]
    if obs.batched and obs.num_rows == 0:
        empty = {net.names[v]: torch.zeros(0, dtype=torch.int64, device=device) for v in tids}
        return (empty, torch.zeros(0, dtype=dtype, device=device)) if return_log_prob else empty
    query = _Query(net, obs, tids, "max", device, dtype, max_table_size)
    out: dict[int, list[torch.Tensor]] = {v: [] for v in tids}
    best = []
    for lo, hi, codes in query.chunks():
        best.append(_decode_block(query, obs, codes, lo, hi, out))
    if not obs.batched:
        result = {net.names[v]: net.states[v][int(ts[0])] for v, ts in out.items()}
        return (result, best[0]) if return_log_prob else result
    result = {net.names[v]: query.expand(torch.cat(ts)) for v, ts in out.items()}
    return (result, query.expand(torch.cat(best))) if return_log_prob else result


def _decode_block(query, obs: Observations, codes, lo: int, hi: int, out) -> torch.Tensor:
    """Max-product on rows ``lo:hi``: appends each decoded node's states to ``out``; returns log P(x*, e)."""
    with torch.enable_grad():
        lams = query.lambdas(codes, hi - lo, log=True)
        top = contract_max(query.plan, query.tables, codes, hi - lo, lams)
        bad = ~(top > float("-inf"))
        if bool(bad.any()):
            _zero_error(query.net, obs, bad.nonzero().flatten() + lo, query.inverse)
        wanted = [(v, lam) for v, lam in zip(query.plan.lam_nodes, lams) if lam.requires_grad]
        grads = torch.autograd.grad(top.sum(), [lam for _, lam in wanted]) if wanted else ()
    for (v, _), g in zip(wanted, grads):
        if v in out:
            out[v].append(g.argmax(-1))
    return top.detach()


# --- helpers ---------------------------------------------------------------------------------------------


def _observe(bn, evidence, device):
    """``(compiled network, observations, device)``."""
    net = compiled(bn)
    obs, device = observe(net, evidence, device)
    return net, obs, device


class _Query:
    """One query's plan and tables, over the distinct evidence rows (``inverse`` maps results back)."""

    def __init__(self, net, obs: Observations, tids, mode: str, device, dtype, max_table_size) -> None:
        self.net, self.device, self.dtype = net, device, dtype
        self.obs, self.inverse = _distinct_rows(obs)
        self.plan = _plan(net, self.obs, tids, mode, dtype, max_table_size)
        self.tables = net.tables(device, dtype, log=mode == "max")

    def chunks(self):
        return _chunks(self.obs, self.plan, self.dtype)

    def lambdas(self, codes, num_rows: int, log: bool):
        if self.plan.dense:
            return dense_lambdas(self.plan, self.obs.nodes, codes, self.device, self.dtype, log)
        return make_lambdas(self.plan, codes, num_rows, self.device, self.dtype, log)

    def expand(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.inverse is None else t[self.inverse]


def _plan(net, obs: Observations, tids, mode: str, dtype, max_table_size) -> Plan:
    check_dtype(dtype)
    max_table_size = check_max_table_size(max_table_size)
    dname = str(dtype).removeprefix("torch.")
    if not obs.batched and (
        mode == "max" or 2 * len(relevant_nodes(net.parents, {*obs.nodes, *tids})) > len(net.cards)
    ):
        # One plan per network serves every single-row query, unless it is too big, or pruning would
        # leave less than half of the network (P(e) of a few nodes, the marginals of a few).
        plan = net.plan(("dense", mode, dname), lambda: dense_plan(net, mode, dname))
        if plan.largest <= max_table_size and plan.flops <= DENSE_MAX_FLOPS:
            return plan
    bucket = 4 ** min(10, math.ceil(math.log(max(obs.num_rows, 1), 4))) if obs.batched else 1
    key = (mode, obs.nodes, obs.full, tuple(tids), obs.batched, bucket, dname)
    full = [c for c, f in enumerate(obs.full) if f]
    plan = net.plan(key, lambda: build_plan(net, obs.nodes, full, tids, mode, obs.batched, bucket, dname))
    if plan.largest > max_table_size:
        nbytes = plan.largest * torch.finfo(dtype).bits / 8
        raise InferenceTooLargeError(
            f"exact inference here needs a table of {plan.largest:.3g} entries ({format_bytes(nbytes)} in "
            f"{dname}), above max_table_size={max_table_size:.3g}. Use approximate inference "
            f"(probgen.bayesnet.approx.likelihood_weighting), observe more nodes, or raise max_table_size "
            f"if the machine has the memory."
        )
    return plan


def _chunks(obs: Observations, plan: Plan, dtype):
    """``(lo, hi, codes)`` row blocks small enough for ``MEMORY_BUDGET``; one block if unbatched."""
    if not obs.batched:
        yield 0, 1, obs.codes
        return
    # the tables and their adjoints, and the widest product a step forms (broadcast kernel)
    per_row = (2 * max(plan.retained, 1.0) + 2 * plan.widest) * torch.finfo(dtype).bits / 8
    step = max(1, int(MEMORY_BUDGET // per_row))
    for lo in range(0, obs.num_rows, step):
        hi = min(obs.num_rows, lo + step)
        yield lo, hi, obs.codes[lo:hi]


def _zero_error(net, obs: Observations, rows: torch.Tensor, inverse=None):
    """Raise the ValueError for rows (of the distinct rows, if ``inverse`` maps them back) with P(e) = 0."""
    if not obs.batched:
        raise ValueError(
            f"the evidence {obs.row(net, 0)} has probability zero (contradictory); no posterior exists"
        )
    if inverse is not None:
        rows = torch.isin(inverse, rows.to(inverse.device)).nonzero().flatten()
    first = int(rows[0])
    raise ValueError(
        f"the evidence has probability zero (contradictory) in {len(rows)} row(s), first row {first}: "
        f"{obs.row(net, first)}; drop those rows or fix their evidence"
    )


def _distinct_rows(obs: Observations):
    """Evidence rows deduplicated, and the index that maps results back: ``(obs, inverse (N,) or None)``.

    Rows often repeat (a few observed nodes with a few states each give few distinct rows): each distinct
    row is computed once. Skipped when it would save little.
    """
    if not obs.batched or obs.num_rows < 2 or not obs.nodes:
        return obs, None
    distinct, inverse = _unique_rows(obs.codes)
    if distinct is None or len(distinct) > 0.75 * obs.num_rows:
        return obs, None
    return dataclasses.replace(obs, codes=distinct, num_rows=len(distinct)), inverse


def _unique_rows(codes: torch.Tensor):
    """``(distinct (U, k), inverse (N,))`` of an int64 matrix with entries >= -1, or ``(None, None)``.

    One int64 key per row (``torch.unique(dim=0)`` compares rows one by one, 50x slower): exact mixed
    radix when the states fit in 63 bits, else a multiplicative hash whose grouping is then verified.
    """
    radix = (codes.amax(0) + 2).tolist()  # (k,) digits per column, -1 shifted to 0
    shifted = codes + 1
    if math.prod(radix) < 2**62:
        weights = [math.prod(radix[j + 1 :]) for j in range(len(radix))]
        exact = True
    else:
        gen = torch.Generator().manual_seed(len(radix))  # fixed random odd multipliers: a linear hash
        weights = (torch.randint(-(2**62), 2**62, (len(radix),), generator=gen) * 2 + 1).tolist()
        exact = False
    keys = shifted @ torch.tensor(weights, dtype=torch.int64, device=codes.device)  # (N,), wraps mod 2**64
    _, inverse = torch.unique(keys, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(keys), device=codes.device, dtype=torch.int64)
    first = first.scatter_reduce(0, inverse, torch.arange(len(keys), device=codes.device), "amin")
    distinct = codes[first]  # (U, k): the first row of each group
    if not exact and not bool((distinct[inverse] == codes).all()):
        return None, None  # a hash collision: do not deduplicate
    return distinct, inverse


def _collect(out, marg, obs: Observations, codes, tids, cards, device, dtype) -> None:
    """Append each target's marginals for this block of rows to ``out``."""
    col_of = {v: c for c, v in enumerate(obs.nodes)}
    for v in tids:
        m = marg.get(v)
        if m is None:  # observed in every row: its indicator
            x = codes[:, col_of[v]] if obs.batched else torch.tensor(codes[col_of[v]], device=device)
            m = torch.nn.functional.one_hot(x, cards[v]).to(dtype)
        out[v].append(m)
