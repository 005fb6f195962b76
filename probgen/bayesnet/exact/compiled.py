"""A network flattened for inference: integer node ids, CPT tensors, an elimination order, cached plans.

:func:`compiled` builds a :class:`Compiled` from anything with the BayesNet accessors (``nodes``,
``parents(n)``, ``card(n)``, ``states(n)``, ``cpt(n)``) once and keeps it while the network object
lives, so repeated queries pay neither the conversion nor the elimination-order search. A BayesNet is
treated as immutable; after changing one in place, call :func:`clear_cache`.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import torch

from probgen.bayesnet.exact.elimination import best_order, moral_graph
from probgen.bayesnet.model.encoding import StateEncoder

__all__ = ["Compiled", "compiled", "clear_cache"]

_CACHE: dict[int, Compiled] = {}
MAX_PLANS = 512  # per network; least recently used plans are dropped beyond this


class Compiled:
    """Integer-indexed view of a Bayesian network.

    Attributes:
        names: node names, topological order; node id ``i`` is ``names[i]``.
        index: name -> id.
        parents: ``parents[i]`` tuple of parent ids (BayesNet order), all ``< i``.
        cards: number of states per node.
        states: state names per node.
        encoder: the ``StateEncoder`` of these nodes and states.
        cpts: float64 CPU tensors, ``cpts[i]`` of shape ``(*parent_cards, cards[i])``, rows renormalised
            to sum to one exactly (to float64 round-off).
        order_pos: position of each node in the elimination order.
        largest, total: largest and summed clique table sizes (entries) of that order.
    """

    def __init__(self, bn):
        names = _topological(bn)
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.parents = [tuple(self.index[p] for p in bn.parents(n)) for n in names]
        self.cards = [int(bn.card(n)) for n in names]
        self.states = [list(bn.states(n)) for n in names]
        self.encoder = StateEncoder(dict(zip(names, self.states)))
        self.cpts = []
        for i, n in enumerate(names):
            t = torch.as_tensor(bn.cpt(n), dtype=torch.float64).detach().cpu().contiguous()
            want = (*(self.cards[p] for p in self.parents[i]), self.cards[i])
            if tuple(t.shape) != want:
                raise ValueError(
                    f"CPT of {n!r} has shape {tuple(t.shape)}; parents {bn.parents(n)} need {want}"
                )
            # Rows are conditional distributions; BIF files round them (alarm's sum to 1 +- 1e-7), and
            # renormalising makes barren-node pruning exact, so every plan gives the same answer.
            sums = t.sum(-1, keepdim=True)
            self.cpts.append(torch.where(sums > 0, t / sums, t))
        order, self.largest, self.total = best_order(moral_graph(self.parents), self.cards)
        self.order_pos = [0] * len(names)
        for k, v in enumerate(order):
            self.order_pos[v] = k
        self._tables: dict[tuple, list[torch.Tensor]] = {}
        self._derived: dict = {}
        self._plans: OrderedDict = OrderedDict()

    def __repr__(self) -> str:
        return f"Compiled({len(self.names)} nodes, largest clique {self.largest:.3g} entries)"

    def tables(self, device: torch.device, dtype: torch.dtype, log: bool = False) -> list[torch.Tensor]:
        """The CPTs on ``device`` in ``dtype`` (natural logs if ``log``), converted once and cached."""
        key = (str(device), dtype, log)
        tabs = self._tables.get(key)
        if tabs is None:
            tabs = [t.to(device=device, dtype=dtype) for t in self.cpts]
            if log:
                tabs = [t.log() for t in tabs]
            self._tables[key] = tabs
        return tabs

    def derived(self, key, build):
        """A value derived from the tables (e.g. likelihood weighting's CDFs), made by ``build()`` once."""
        value = self._derived.get(key)
        if value is None:
            value = self._derived[key] = build()
        return value

    def clear_plans(self) -> None:
        """Forget the cached plans (a benchmark's cold start)."""
        self._plans.clear()

    def plan(self, key, build):
        """The cached plan for ``key``, made by ``build()`` on a miss."""
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = build()
            if len(self._plans) > MAX_PLANS:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan


def _topological(bn) -> list[str]:
    """``bn.nodes`` if it is topological (the contract), else a topological order that follows it."""
    names = list(bn.nodes)
    pos = {n: i for i, n in enumerate(names)}
    if all(pos[p] < pos[n] for n in names for p in bn.parents(n)):
        return names
    indeg = {n: len(bn.parents(n)) for n in names}
    children: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for p in bn.parents(n):
            children[p].append(n)
    ready = [n for n in reversed(names) if indeg[n] == 0]
    out = []
    while ready:
        n = ready.pop()
        out.append(n)
        for c in reversed(children[n]):
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(out) != len(names):
        raise ValueError(f"the network has a cycle among {sorted(set(names) - set(out))[:10]}")
    return out


def compiled(bn) -> Compiled:
    """The :class:`Compiled` form of ``bn``, built on first use and cached while ``bn`` lives."""
    if isinstance(bn, Compiled):
        return bn
    key = id(bn)
    hit = _CACHE.get(key)
    if hit is not None and hit._source() is bn:
        return hit
    net = Compiled(bn)
    try:
        net._source = weakref.ref(bn, lambda _ref, key=key: _CACHE.pop(key, None))
    except TypeError:  # not weak-referenceable: no caching
        net._source = lambda: None
        return net
    _CACHE[key] = net
    return net


def clear_cache(bn=None) -> None:
    """Forget the compiled form (and plans) of ``bn``, or of every network when ``bn`` is None."""
    if bn is None:
        _CACHE.clear()
    else:
        _CACHE.pop(id(bn), None)
