"""Running a contraction plan (``plan.py``): sum-product and max-product over torch tensors.

Sum-product (Darwiche, "A differential approach to inference in Bayesian networks", JACM 2003): the
contraction of every table gives Z_b = P(e_b) for each row b, and d log Z_b / d(table) times the table,
summed down to one node's axis, is P(node | e_b). One contraction plus one backward pass answers every
marginal of every row; the backward pass is written out (not autograd) so that each adjoint keeps its row
axis even where the forward table has none. Tables that absorbed many observations are divided by their
per-row maximum and the scale is carried in log space: P(e) does not underflow even below float64's
range, and the adjoints are divided by the same constants.

Max-product runs the same schedule in log space with ``max`` in place of ``sum``, under autograd:
``torch.max`` sends its gradient to a single maximiser, so the gradient with respect to each (log)
indicator is one-hot at the node's value in one most probable explanation ("Viterbi by backprop").
"""

from __future__ import annotations

import torch

from probgen.bayesnet.exact.kernels import BATCH, run_op
from probgen.bayesnet.exact.plan import Plan


class ZeroEvidence(Exception):
    """Internal: rows whose evidence has probability zero (``rows``: int64 tensor of row indices)."""

    def __init__(self, rows: torch.Tensor):
        super().__init__(f"P(e) = 0 in rows {rows.tolist()[:10]}")
        self.rows = rows


def _leaf_tables(plan: Plan, tables, codes, lams, log: bool) -> list[torch.Tensor]:
    """The leaf tables: CPTs with observed axes indexed away (by ``codes``: ``(N, k)`` or ``k`` ints),
    indicators folded in; row axis last."""
    out = []
    for leaf in plan.leaves:
        t = tables[leaf.node]
        if leaf.cols:
            t = t.permute(leaf.perm)
            if plan.batched:
                t = t[(Ellipsis, *(codes[:, c] for c in leaf.cols))]  # (*rest, N)
            else:
                t = t[(Ellipsis, *(codes[c] for c in leaf.cols))]  # (*rest)
        if leaf.lam >= 0:
            lam = lams[leaf.lam]  # (N, card) or (card,)
            if plan.batched:
                if not leaf.cols:
                    t = t.unsqueeze(-1)
                lam = lam.t()  # (card, N): broadcasts against (..., card, N)
            t = t + lam if log else t * lam
        out.append(t)
    return out


def make_lambdas(plan: Plan, codes, num_rows: int, device, dtype, log: bool) -> list[torch.Tensor]:
    """Indicators: ones for unobserved nodes, one-hot in rows where a partly observed node is observed.

    Shapes ``(N, card)`` when batched, ``(card,)`` otherwise; log-indicators (0 / -inf) if ``log``; the
    ones whose gradient max-product wants require grad.
    """
    lams = []
    for v, grad, col in zip(plan.lam_nodes, plan.lam_grad, plan.lam_cols):
        card = plan.cards[v]
        shape = (num_rows, card) if plan.batched else (card,)
        lam = torch.full(shape, 0.0 if log else 1.0, device=device, dtype=dtype)
        if col >= 0:  # observed in some rows: one-hot there
            vals = codes[:, col]  # (N,)
            hit = torch.nn.functional.one_hot(vals.clamp(min=0), card).bool()  # (N, card)
            hit |= (vals < 0)[:, None]
            lam = lam.masked_fill(~hit, float("-inf") if log else 0.0)
        if grad:
            lam.requires_grad_(True)
        lams.append(lam)
    return lams


_CONST: dict = {}


def dense_lambdas(plan: Plan, nodes, codes, device, dtype, log: bool) -> list[torch.Tensor]:
    """Indicators for a ``plan.dense_plan``, ``(card,)`` each.

    One-hot rows on the observed ``nodes`` (at their ``codes``), ones (zeros in log space) elsewhere.
    For max-product the unobserved ones are fresh leaves that require grad.
    """
    observed = dict(zip(nodes, codes))
    lams = []
    for v, card in enumerate(plan.cards):
        x = observed.get(v)
        if x is None and plan.mode == "max":
            lams.append(torch.zeros(card, device=device, dtype=dtype, requires_grad=True))
            continue
        key = (card, str(device), dtype, log)
        const = _CONST.get(key)
        if const is None:  # eye and ones (log: log-eye and zeros), made once
            eye = torch.eye(card, device=device, dtype=dtype)
            ones = torch.ones(card, device=device, dtype=dtype)
            const = _CONST[key] = (eye.log(), ones.log()) if log else (eye, ones)
        lams.append(const[1] if x is None else const[0][x])
    return lams


def _rescale(x: torch.Tensor, batched: bool):
    """``x`` divided by its maximum (per row: over all axes but the last, the row axis), and that max."""
    c = x
    if batched:
        if x.dim() > 1:
            c = x.amax(tuple(range(x.dim() - 1)))  # (N,)
    elif x.dim():
        c = x.amax()
    c = torch.where(c > 0, c, torch.ones_like(c))
    return x / c, c


def contract_sum(plan: Plan, tables, codes, num_rows: int, lams, marginals=True):
    """Sum-product: ``(log_z, marginals)``.

    ``log_z`` = log P(e), shape ``(N,)`` when batched, else ``()``. The second item maps each wanted node
    (``marginals``: True for all of the plan's, a set of node ids, or False for none) to P(node | e),
    ``(N, card)`` or ``(card,)``. Raises :class:`ZeroEvidence` before the backward pass when some row
    has P(e) = 0.
    """
    buf: list = _leaf_tables(plan, tables, codes, lams, log=False)
    buf.extend([None] * len(plan.steps))
    scales: list = [None] * len(plan.steps)
    log_scale = None
    for i, st in enumerate(plan.steps):
        x = run_op(st.fwd, [buf[st.a]] if st.b < 0 else [buf[st.a], buf[st.b]])
        if st.rescale:
            x, c = _rescale(x, plan.batched and st.keep[-1:] == (BATCH,))
            scales[i] = c
            log_scale = c.log() if log_scale is None else log_scale + c.log()
        buf[st.out] = x
    shape = (num_rows,) if plan.batched else ()
    if plan.final:  # Z is their product; summed as logs, since there may be thousands (observed leaves)
        log_z = torch.stack([buf[s].expand(shape) for s in plan.final]).log().sum(0)
    else:
        log_z = torch.zeros(shape, device=tables[0].device, dtype=tables[0].dtype)
    if log_scale is not None:
        log_z = log_z + log_scale
    if marginals is False:
        return log_z, {}
    bad = ~(log_z > float("-inf"))  # -inf or NaN
    if bool(bad.any()):
        raise ZeroEvidence(bad.nonzero().flatten())
    if not plan.marginals:
        return log_z, {}
    return log_z, _backward(plan, buf, scales, shape, set(plan.marginals) if marginals is True else marginals)


def _backward(plan: Plan, buf, scales, shape, wanted) -> dict[int, torch.Tensor]:
    """Adjoints d log Z / d table from the root down; marginals where they reach a wanted leaf."""
    adj: list = [None] * len(buf)
    for s in plan.final:  # d log Z / d t_s = 1 / t_s, one per row
        adj[s] = (1.0 / buf[s]).expand(shape)
    out = {}
    for i in range(len(plan.steps) - 1, -1, -1):
        st = plan.steps[i]
        g = adj[st.out]
        if g is None:
            continue
        adj[st.out] = None
        if scales[i] is not None:  # the forward divided this table by c: so is its adjoint
            g = g / scales[i]
        a = buf[st.a]
        b = buf[st.b] if st.b >= 0 else None
        if st.grad_a is not None:
            adj[st.a] = run_op(st.grad_a, [g] if b is None else [g, b])
        elif st.marg_a is not None and st.marg_a[0] in wanted:
            out[st.marg_a[0]] = run_op(st.marg_a[1], [g, a] if b is None else [g, b, a])
        if st.grad_b is not None:
            adj[st.b] = run_op(st.grad_b, [g, a])
        elif st.marg_b is not None and st.marg_b[0] in wanted:
            out[st.marg_b[0]] = run_op(st.marg_b[1], [g, a, b])
    return out


def contract_max(plan: Plan, log_tables, codes, num_rows: int, log_lams) -> torch.Tensor:
    """max over unobserved assignments of log P(x, e), shape ``(N,)`` or ``()``; differentiable."""
    buf: list = _leaf_tables(plan, log_tables, codes, log_lams, log=True)
    buf.extend([None] * len(plan.steps))
    for st in plan.steps:
        union = (*st.keep, *st.elim)
        x = _align(buf[st.a], st.scope_a, union, plan.cards)
        if st.b >= 0:
            x = x + _align(buf[st.b], st.scope_b, union, plan.cards)
        if st.elim:
            x = x.flatten(len(st.keep)).max(-1).values  # one maximiser gets the gradient
        buf[st.a] = None
        if st.b >= 0:
            buf[st.b] = None
        buf[st.out] = x
    total = None
    for s in plan.final:
        total = buf[s] if total is None else total + buf[s]
    shape = (num_rows,) if plan.batched else ()
    if total is None:
        return torch.zeros(shape, device=log_tables[0].device, dtype=log_tables[0].dtype)
    return total.expand(shape)


def _align(t: torch.Tensor, scope, union, cards) -> torch.Tensor:
    """View ``t`` (axes ``scope``) with the axes of ``union``: permuted, size-1 where absent."""
    perm = [scope.index(u) for u in union if u in scope]
    if perm != list(range(len(perm))):
        t = t.permute(perm)
    shape = [(-1 if u == BATCH else cards[u]) if u in scope else 1 for u in union]
    return t.reshape(shape)
