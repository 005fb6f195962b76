"""Contraction plans: which tables exact inference multiplies, in which order, and how big they get.

A plan is made once per (network, query pattern) and cached by :class:`probgen.bayesnet.compiled.Compiled`.
The pattern is: which nodes are observed in every row (their axes are *sliced* out of the tables), which
are observed in some rows only (multiplied by an evidence indicator), which marginals are wanted, sum- or
max-product, and whether rows are batched. Making a plan (pruning barren nodes, bucket elimination along
the network's elimination order, pairwise einsum equations) costs microseconds to milliseconds; running it
is :mod:`probgen.bayesnet.contract`.

Each table of the plan is the CPT of one node with the observed axes sliced away and, for a node whose
marginal is wanted (or that is observed in some rows), an indicator lambda of shape ``(N, card)`` folded
into its last axis (Darwiche 2003). Folding keeps every table the size of a CPT: passing the indicators
as separate operands lets a greedy path multiply them together into a table over all rows and all their
variables (the 60 GB blow-up of ``../shared/DESIGN-NOTES.md``). Bucket elimination contracts only tables
that share the variable being eliminated, two at a time, so no step is ever larger than a clique of the
triangulated moral graph, and each einsum has a handful of subscripts (far below torch's 52).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import string
from dataclasses import dataclass

BATCH = -1  # the variable id of the row (batch) axis in a scope
LETTERS = string.ascii_letters  # torch.einsum accepts these 52 subscripts
# A table that absorbed this many observations since it was last rescaled is divided by its per-row
# maximum: each observation multiplies the mass by a probability that may be as small as ~1e-10.
RESCALE_EVERY = {"float64": 12, "float32": 3}


@dataclass(frozen=True)
class Leaf:
    """One node's CPT as it enters the contraction.

    ``perm`` reorders the CPT's axes ``(*parents, node)`` so that the sliced ones come first; ``cols``
    are the evidence columns that index them. ``lam`` is the indicator slot folded into the node's own
    (last) axis, or -1. ``scope`` lists the variables of the resulting table, ``BATCH`` first if batched.
    """

    node: int
    perm: tuple[int, ...]
    cols: tuple[int, ...]
    lam: int
    scope: tuple[int, ...]


@dataclass(frozen=True)
class Adjoint:
    """How to get an operand's adjoint d log Z / d table from its step's output adjoint.

    Binary step: ``einsum(equation, g_out, other)``; unary: ``g_out.permute(perm)``. Then size-1 axes
    are inserted at the positions ``unsqueeze`` (ascending): the adjoint is constant along variables
    that only this operand had and the step summed away, and einsum and arithmetic broadcast them.
    """

    equation: str
    perm: tuple[int, ...] | None
    unsqueeze: tuple[int, ...]


@dataclass(frozen=True)
class Step:
    """``out = contract(a, b)``; ``b == -1`` is a reduction of ``a`` alone.

    ``keep`` lists the variables of the result (its axes, in order) and ``elim`` those summed (or
    maximised) away. ``equation`` is the einsum equation for sum-product; ``grad_a`` / ``grad_b`` give
    the operands' adjoints (None where no marginal needs them). An operand that is the leaf of a wanted
    node instead has ``marg_a`` / ``marg_b`` = ``(node, equation)``: its marginal is
    ``einsum(equation, g_out[, other], leaf)`` in one call. ``rescale``: divide the result by its
    per-row maximum (sum-product only).
    """

    a: int
    b: int
    out: int
    scope_a: tuple[int, ...]
    scope_b: tuple[int, ...]
    keep: tuple[int, ...]
    elim: tuple[int, ...]
    equation: str
    rescale: bool
    grad_a: Adjoint | None = None
    grad_b: Adjoint | None = None
    marg_a: tuple[int, str] | None = None
    marg_b: tuple[int, str] | None = None


@dataclass
class Plan:
    """A contraction schedule for one query pattern.

    Slots ``0..len(leaves)-1`` hold the leaf tables; each step writes slot ``out``. ``final`` lists the
    slots left at the end (tables over ``BATCH`` only, or scalars) whose product is P(e). ``marginals``
    lists the nodes whose marginals the backward pass produces (see :class:`Step`).
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
    retained: float  # entries alive for the backward pass, per row
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
        net: a :class:`~probgen.bayesnet.compiled.Compiled` network.
        cols: node id of each evidence column.
        full: the columns observed in every row (sliced); the others are partly observed (indicators).
        targets: node ids whose marginals are wanted (sum) or decoded (max).
        mode: ``"sum"`` or ``"max"``.
        batched: whether tables that see evidence carry a leading row axis.
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
    leaves, evidence = [], []
    for v in nodes:
        family = (*net.parents[v], v)
        cut = [i for i, u in enumerate(family) if u in sliced]
        rest = [i for i, u in enumerate(family) if u not in sliced]
        lam = lam_slot.get(v, -1)
        scope = tuple(family[i] for i in rest)
        if batched and (cut or lam >= 0):
            scope = (BATCH, *scope)
        leaves.append(Leaf(v, tuple(cut + rest), tuple(sliced[family[i]] for i in cut), lam, scope))
        evidence.append(int(bool(cut) or v in partial))
    steps, final, stats = _schedule(
        [leaf.scope for leaf in leaves], evidence, net, mode, batch_card, RESCALE_EVERY.get(dtype_name, 3)
    )
    marginals = []
    if mode == "sum":
        slot_of = {leaf.node: s for s, leaf in enumerate(leaves)}
        steps = _add_adjoints(steps, {slot_of[v]: v for v in wanted}, len(leaves), batched)
        marginals = sorted(wanted)
    return Plan(
        mode=mode,
        batched=batched,
        cards=net.cards,
        leaves=leaves,
        lam_nodes=lam_nodes,
        lam_grad=[mode == "max" and v in set(wanted) for v in lam_nodes],
        lam_cols=[partial.get(v, -1) for v in lam_nodes],
        steps=steps,
        final=final,
        marginals=marginals,
        **stats,
    )


def dense_plan(net, mode: str, dtype_name: str) -> Plan:
    """The plan for single-row queries: every CPT whole, an indicator on every node, nothing pruned.

    Evidence enters only through the indicators (one-hot on observed nodes, ones elsewhere), so this
    one plan serves every single-row query on the network; lambda slot ``v`` belongs to node ``v``.
    Slicing and pruning would shrink the tables, but making a new plan for each new evidence pattern
    costs more than that saves unless the network is large.
    """
    n = len(net.cards)
    leaves = [Leaf(v, (), (), v, (*net.parents[v], v)) for v in range(n)]
    steps, final, stats = _schedule(
        [leaf.scope for leaf in leaves], [1] * n, net, mode, 1, RESCALE_EVERY.get(dtype_name, 3)
    )
    marginals = []
    if mode == "sum":
        steps = _add_adjoints(steps, {v: v for v in range(n)}, n, False)
        marginals = list(range(n))
    return Plan(
        mode=mode,
        batched=False,
        cards=net.cards,
        leaves=leaves,
        lam_nodes=list(range(n)),
        lam_grad=[mode == "max"] * n,
        lam_cols=[-1] * n,
        steps=steps,
        final=final,
        marginals=marginals,
        dense=True,
        **stats,
    )


def _size(scope, cards, batch_card):
    return math.prod(batch_card if u == BATCH else cards[u] for u in scope)


def _entries(scope, cards):
    return math.prod(cards[u] for u in scope if u != BATCH)


def _schedule(scopes, evidence, net, mode, batch_card, rescale_every):
    """Bucket elimination along ``net.order``, two tables at a time (smallest product first)."""
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
            keep = tuple(sorted(union - set(elim), key=lambda u: -1 if u == BATCH else pos[u]))
            out = len(scopes)
            scopes.append(keep)
            ev = evidence[a] + (evidence[b] if b >= 0 else 0)
            rescale = mode == "sum" and ev >= rescale_every
            evidence.append(0 if rescale else ev)
            for s in pair - {-1}:
                live.discard(s)
                for u in scopes[s]:
                    if u != BATCH:
                        var_slots[u].discard(s)
            for u in keep:
                if u != BATCH:
                    var_slots[u].add(out)
            live.add(out)
            scope_b = scopes[b] if b >= 0 else ()
            eq = _equation([scopes[a], scope_b] if b >= 0 else [scopes[a]], keep)
            steps.append(Step(a, b, out, scopes[a], scope_b, keep, elim, eq, rescale))
            union_entries = _entries(union, cards)
            flops += union_entries
            out_entries = _entries(keep, cards)
            largest = max(largest, out_entries, union_entries if mode == "max" else 0)
            retained += out_entries + (union_entries if mode == "max" else 0)
    return steps, sorted(live), {"largest": float(largest), "retained": float(retained), "flops": flops}


def _equation(inputs, output) -> str:
    """An einsum equation over variable ids, letters assigned in order of first appearance."""
    letters: dict[int, str] = {}
    for scope in (*inputs, output):
        for u in scope:
            if u not in letters:
                if len(letters) == len(LETTERS):  # unreachable below any sane size limit (2**53 entries)
                    raise ValueError(f"a contraction step has over {len(LETTERS)} variables, einsum's limit")
                letters[u] = LETTERS[len(letters)]
    lhs = ",".join("".join(letters[u] for u in scope) for scope in inputs)
    return lhs + "->" + "".join(letters[u] for u in output)


def _adj_scope(scope, batched):
    """Adjoints always carry the row axis when batched: every row has its own d log Z_b."""
    return (BATCH, *(u for u in scope if u != BATCH)) if batched else tuple(scope)


def _add_adjoints(steps, wanted: dict[int, int], n_leaves: int, batched: bool):
    """Attach adjoint and marginal recipes to the steps on the way from Z to the wanted leaves.

    ``wanted`` maps a leaf slot to the node whose marginal it yields.
    """
    need = [s in wanted for s in range(n_leaves)] + [False] * len(steps)
    for st in steps:
        need[st.out] = need[st.a] or (st.b >= 0 and need[st.b])
    out = []
    for st in steps:
        g_out = _adj_scope(st.keep, batched)
        spec = {}
        for side, slot, other, scope in (
            ("a", st.a, st.scope_b, st.scope_a),
            ("b", st.b, st.scope_a, st.scope_b),
        ):
            if slot < 0 or not need[slot]:
                continue
            other = other if st.b >= 0 else None
            if slot in wanted:  # a leaf: straight to its marginal, one einsum
                v = wanted[slot]
                inputs = [g_out, scope] if other is None else [g_out, other, scope]
                spec["marg_" + side] = (v, _equation(inputs, (BATCH, v) if batched else (v,)))
            else:
                spec["grad_" + side] = _adjoint(g_out, other, _adj_scope(scope, batched))
        out.append(dataclasses.replace(st, **spec))
    return out


def _adjoint(g_out, other, target) -> Adjoint:
    avail = set(g_out) | set(other or ())
    present = tuple(u for u in target if u in avail)
    unsqueeze = tuple(i for i, u in enumerate(target) if u not in avail)
    if other is None:
        perm = tuple(g_out.index(u) for u in present)
        return Adjoint("", None if perm == tuple(range(len(perm))) else perm, unsqueeze)
    return Adjoint(_equation([g_out, other], present), None, unsqueeze)
