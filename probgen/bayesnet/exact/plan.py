"""Contraction plans: which tables exact inference multiplies, in which order, and how big they get.

A plan is made once per (network, query pattern) and cached by the compiled network (``compiled.py``).
The pattern is: which nodes are observed in every row (their axes are *sliced* out of the tables), which
are observed in some rows only (multiplied by an evidence indicator), which marginals are wanted, sum- or
max-product, and whether rows are batched. Making a plan (pruning barren nodes, bucket elimination along
the network's elimination order, one ``kernels.Op`` per step) costs microseconds to milliseconds; running
it is ``contract.py``.

Each table of the plan is the CPT of one node with the observed axes sliced away; a node observed in
some rows only gets an indicator ``(N, card)`` folded into its own axis. Folding keeps every table the
size of a CPT: passing indicators as separate operands lets a greedy path multiply them together into a
table over all rows and all their variables (measured: opt_einsum's greedy path over the CPTs and separate
indicators allocated 60 GB on alarm).
Bucket elimination contracts only tables that share the variable being eliminated, two at a time, so
no step is larger than a clique of the triangulated moral graph, and each has a handful of axes (far
below einsum's 52 letters). Batched tables keep the row axis last.

Marginals come from adjoints d log Z / d table, propagated back through the same steps (the backward
pass of Darwiche's differential approach, written out so that every adjoint keeps its row axis even
where the forward table has none).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from probgen.bayesnet.exact.kernels import BATCH, BCAST_MAX_UNION, Op, make_op

# A table that absorbed this many observations since it was last rescaled is divided by its per-row
# maximum: each observation multiplies the mass by a probability that may be as small as ~1e-10.
RESCALE_EVERY = {"float64": 12, "float32": 3}


@dataclass(frozen=True, slots=True)
class Leaf:
    """One node's CPT as it enters the contraction.

    ``perm`` reorders the CPT's axes ``(*parents, node)`` so that the sliced ones come last; ``cols``
    are the evidence columns that index them. ``lam`` is the indicator slot folded into the node's own
    axis, or -1. ``scope`` lists the variables of the resulting table (``BATCH`` last if batched).
    """

    node: int
    perm: tuple[int, ...]
    cols: tuple[int, ...]
    lam: int
    scope: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """``out = contract(a, b)`` (``b == -1``: a reduction of ``a`` alone) by the op ``fwd``.

    ``keep`` lists the result's variables (its axes, in order) and ``elim`` those summed (or maximised)
    away. ``grad_a`` / ``grad_b`` turn the output's adjoint (and the other operand) into an operand's
    adjoint, where some marginal needs it; an operand that is the leaf of a wanted node has ``marg_a`` /
    ``marg_b`` = ``(node, op)`` instead, giving its marginal ``(N, card)`` or ``(card,)`` in one op from
    ``(g_out, [other,] leaf)``. ``rescale``: divide the result by its per-row maximum.
    """

    a: int
    b: int
    out: int
    scope_a: tuple[int, ...]
    scope_b: tuple[int, ...]
    keep: tuple[int, ...]
    elim: tuple[int, ...]
    fwd: Op | None
    rescale: bool
    grad_a: Op | None = None
    grad_b: Op | None = None
    marg_a: tuple[int, Op] | None = None
    marg_b: tuple[int, Op] | None = None


@dataclass
class Plan:
    """A contraction schedule for one query pattern.

    Slots ``0..len(leaves)-1`` hold the leaf tables; each step writes slot ``out``. ``final`` lists the
    slots left at the end (tables over ``BATCH`` only, or scalars) whose product is P(e); ``marginals``
    the nodes whose marginals the backward pass yields.
    """

    mode: str  # "sum" or "max"
    batched: bool
    cards: list[int]  # the network's cards, by node id
    leaves: list[Leaf]
    lam_nodes: list[int]  # the node of each indicator slot
    lam_grad: list[bool]  # whether that indicator's gradient is wanted (max-product decoding)
    lam_cols: list[int]  # the evidence column of a partly observed node's indicator, else -1
    steps: list[Step]
    final: list[int]
    marginals: list[int]
    largest: float  # entries of the largest table, per row
    retained: float  # entries alive until the backward pass, per row
    widest: float  # entries of the largest product a step forms (the union of its operands), per row
    flops: float  # multiply-adds, per row
    dense: bool = False  # a dense_plan: indicators on every node carry the evidence


def relevant_nodes(parents, keep) -> list[int]:
    """``keep`` and all their ancestors, in increasing id order (ids are topological)."""
    seen = set(keep)
    stack = list(keep)
    while stack:
        for p in parents[stack.pop()]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return sorted(seen)


def build_plan(net, cols, full, targets, mode: str, batched: bool, batch_card: int, dtype_name: str) -> Plan:
    """Plan one query pattern.

    Args:
        net: a compiled network (``compiled.Compiled``).
        cols: node id of each evidence column.
        full: the columns observed in every row (sliced); the others are partly observed (indicators).
        targets: node ids whose marginals are wanted (sum) or decoded (max).
        mode: ``"sum"`` or ``"max"``.
        batched: whether tables that see evidence carry a row axis.
        batch_card: a typical number of rows (the cost model's size of ``BATCH``).
        dtype_name: ``"float64"`` or ``"float32"`` (how often to rescale).
    """
    sliced = {cols[c]: c for c in full}
    partial = {cols[c]: c for c in range(len(cols)) if c not in full}
    wanted = [v for v in targets if v not in sliced]
    # Sum-product reads marginals off adjoints, so only partly observed nodes need an indicator;
    # max-product decodes through autograd and needs one per unobserved node.
    lam_nodes = sorted(set(partial) | (set(wanted) if mode == "max" else set()))
    lam_slot = {v: i for i, v in enumerate(lam_nodes)}
    if mode == "max":
        nodes = list(range(len(net.cards)))  # max-product: no node is neutral
    else:
        nodes = relevant_nodes(net.parents, set(sliced) | set(partial) | set(wanted))
    leaves = [_leaf(net, v, sliced, lam_slot.get(v, -1), batched) for v in nodes]
    absorbed = [int(bool(leaf.cols) or leaf.node in partial) for leaf in leaves]  # observations per leaf
    wanted_slots = {s: leaf.node for s, leaf in enumerate(leaves) if leaf.node in set(wanted)}
    return _finish(
        net,
        leaves,
        absorbed,
        wanted_slots if mode == "sum" else {},
        mode,
        batched,
        batch_card,
        dtype_name,
        lam_nodes=lam_nodes,
        lam_grad=[mode == "max" and v in set(wanted) for v in lam_nodes],
        lam_cols=[partial.get(v, -1) for v in lam_nodes],
    )


def _leaf(net, v: int, sliced: dict[int, int], lam: int, batched: bool) -> Leaf:
    """Node ``v``'s CPT with the axes of ``sliced`` nodes (node -> evidence column) moved last, to index."""
    family = (*net.parents[v], v)
    cut = [i for i, u in enumerate(family) if u in sliced]
    rest = [i for i, u in enumerate(family) if u not in sliced]
    scope = tuple(family[i] for i in rest)
    if batched and (cut or lam >= 0):
        scope = (*scope, BATCH)
    return Leaf(v, tuple(rest + cut), tuple(sliced[family[i]] for i in cut), lam, scope)


def dense_plan(net, mode: str, dtype_name: str) -> Plan:
    """The plan for single-row queries: every CPT whole, an indicator on every node, nothing pruned.

    Evidence enters only through the indicators (one-hot on observed nodes, ones elsewhere), so this
    one plan serves every single-row query on the network; indicator slot ``v`` belongs to node ``v``.
    Slicing and pruning would shrink the tables, but making a new plan for each new evidence pattern
    costs more than that saves unless the network is large.
    """
    n = len(net.cards)
    leaves = [Leaf(v, (), (), v, (*net.parents[v], v)) for v in range(n)]
    plan = _finish(
        net,
        leaves,
        [1] * n,
        {v: v for v in range(n)} if mode == "sum" else {},
        mode,
        False,
        1,
        dtype_name,
        lam_nodes=list(range(n)),
        lam_grad=[mode == "max"] * n,
        lam_cols=[-1] * n,
    )
    plan.dense = True
    return plan


def _finish(net, leaves, absorbed, wanted_slots, mode, batched, batch_card, dtype_name, **lams) -> Plan:
    steps, final, stats = _schedule(
        [leaf.scope for leaf in leaves], absorbed, net, mode, batch_card, RESCALE_EVERY.get(dtype_name, 3)
    )
    kernel = _kernel(net.cards, batched)
    steps = [
        dataclasses.replace(st, fwd=kernel([st.scope_a, st.scope_b][: 1 + (st.b >= 0)], st.keep))
        for st in steps
    ]
    if mode == "sum":
        steps = _add_adjoints(steps, wanted_slots, len(leaves), batched, kernel)
    return Plan(
        mode=mode,
        batched=batched,
        cards=net.cards,
        leaves=leaves,
        steps=steps,
        final=final,
        marginals=sorted(wanted_slots.values()),
        **lams,
        **stats,
    )


def _kernel(cards, batched):
    """Op maker: broadcast kernel for batched steps whose per-row product is small, einsum otherwise."""

    def make(inputs, output):
        union = set(itertools.chain(output, *inputs))
        small = math.prod(cards[u] for u in union if u != BATCH) <= BCAST_MAX_UNION
        return make_op(inputs, output, cards, broadcast=batched and small)

    return make


def _size(scope, cards, batch_card):
    return math.prod(batch_card if u == BATCH else cards[u] for u in scope)


def _entries(scope, cards):
    return math.prod(cards[u] for u in scope if u != BATCH)


def _schedule(scopes, absorbed, net, mode, batch_card, rescale_every):
    """Bucket elimination along ``net.order``, two tables at a time (smallest product first).

    ``absorbed[s]`` counts the observations table ``s`` took in since it was last rescaled.
    """
    cards, pos = net.cards, net.order_pos
    scopes = list(scopes)
    live = set(range(len(scopes)))
    var_slots: dict[int, set[int]] = {}
    for s, scope in enumerate(scopes):
        for u in scope:
            if u != BATCH:
                var_slots.setdefault(u, set()).add(s)
    largest = max((_entries(s, cards) for s in scopes), default=1)
    retained = sum(_entries(s, cards) for s in scopes)
    widest = 0
    flops = 0.0
    steps = []
    for v in sorted(var_slots, key=pos.__getitem__):
        while var_slots.get(v):
            bucket = var_slots[v]
            if len(bucket) == 1:
                a, b = next(iter(bucket)), -1
                union = set(scopes[a])
            else:
                a, b = min(
                    itertools.combinations(sorted(bucket), 2),
                    key=lambda ab: _size(set(scopes[ab[0]]) | set(scopes[ab[1]]), cards, batch_card),
                )
                union = set(scopes[a]) | set(scopes[b])
            pair = {a, b}
            elim = tuple(
                sorted((u for u in union if u != BATCH and var_slots[u] <= pair), key=pos.__getitem__)
            )
            keep = tuple(sorted(union - set(elim), key=lambda u: len(pos) if u == BATCH else pos[u]))
            out = len(scopes)
            scopes.append(keep)
            count = absorbed[a] + (absorbed[b] if b >= 0 else 0)
            rescale = mode == "sum" and count >= rescale_every
            absorbed.append(0 if rescale else count)
            for s in pair - {-1}:
                live.discard(s)
                for u in scopes[s]:
                    if u != BATCH:
                        var_slots[u].discard(s)
            for u in keep:
                if u != BATCH:
                    var_slots[u].add(out)
            live.add(out)
            steps.append(Step(a, b, out, scopes[a], scopes[b] if b >= 0 else (), keep, elim, None, rescale))
            union_entries = _entries(union, cards)
            flops += union_entries
            widest = max(widest, union_entries)
            out_entries = _entries(keep, cards)
            largest = max(largest, out_entries, union_entries if mode == "max" else 0)
            retained += out_entries + (union_entries if mode == "max" else 0)
    stats = {"largest": float(largest), "retained": float(retained), "widest": float(widest), "flops": flops}
    return steps, sorted(live), stats


def _adj_scope(scope, batched):
    """Adjoints always carry the row axis (last) when batched: each row has its own d log Z_b."""
    return (*(u for u in scope if u != BATCH), BATCH) if batched else tuple(scope)


def _add_adjoints(steps, wanted: dict[int, int], n_leaves: int, batched: bool, kernel):
    """Attach adjoint and marginal ops to the steps on the way from Z to the wanted leaves.

    ``wanted`` maps a leaf slot to the node whose marginal it yields.
    """
    need = [s in wanted for s in range(n_leaves)] + [False] * len(steps)
    for st in steps:
        need[st.out] = need[st.a] or (st.b >= 0 and need[st.b])
    out = []
    for st in steps:
        g_out = _adj_scope(st.keep, batched)
        spec = {}
        for side, slot, scope, other in (
            ("a", st.a, st.scope_a, st.scope_b),
            ("b", st.b, st.scope_b, st.scope_a),
        ):
            if slot < 0 or not need[slot]:
                continue
            others = [g_out] if st.b < 0 else [g_out, other]
            if slot in wanted:  # a leaf: straight to its marginal, one op
                v = wanted[slot]
                spec["marg_" + side] = (v, kernel([*others, scope], (BATCH, v) if batched else (v,)))
            else:
                spec["grad_" + side] = kernel(others, _adj_scope(scope, batched))
        out.append(dataclasses.replace(st, **spec))
    return out
