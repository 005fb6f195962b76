"""Conditional probability tables: P(X | parents) for a discrete X with discrete parents.

A :class:`TabularCPD` holds the states of X, the names of its parents and a float64 table whose last axis
is X. Rows (the last axis) must sum to one; the table's other axes are the parents, in the order of
``parents``. The parents' cardinalities come from the network, so a CPD may be declared before they are
known, with one row per parent configuration; :class:`~probgen.bayesnet.BayesNet` reshapes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from probgen.bayesnet.model.variables import check_parents, check_states, float64_array

#: Rows of a CPT must sum to one within this absolute tolerance (``normalize=True`` rescales them instead).
ROW_SUM_TOL = 1e-6


def check_rows(probs: torch.Tensor, normalize: bool, where: str) -> torch.Tensor:
    """Check that ``probs`` (..., card) is a table of distributions (or rescale its rows when normalize)."""
    if (probs < 0).any():
        idx = tuple(int(i) for i in (probs < 0).nonzero()[0])
        raise ValueError(f"{where}: probabilities must be non-negative, got {probs[idx].item():g} "
                         f"at index {idx}")
    sums = probs.sum(-1)  # (*parent_cards,)
    if normalize:
        if (sums <= 0).any():
            idx = tuple(int(i) for i in (sums <= 0).nonzero()[0])
            raise ValueError(f"{where}: row {idx} is all zeros and cannot be normalised")
        return probs / sums.unsqueeze(-1)
    bad = (sums - 1).abs() > ROW_SUM_TOL
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{where}: row {idx} of probs sums to {sums[idx].item():.9g}, not 1 (tolerance "
                         f"{ROW_SUM_TOL:g}); fix the table or pass normalize=True to rescale each row")
    return probs


class TabularCPD:
    """The conditional distribution P(X | parents) of a discrete node, as a table.

    Args:
        states: the names of X's states (unique str or int); ``card = len(states)``.
        probs: the table. A root takes shape ``(card,)``. A node with parents takes either
            ``(prod(parent_cards), card)``, one row per parent configuration in C order (the first parent
            varies slowest), or ``(*parent_cards, card)``. Nested lists, ndarrays and tensors are accepted.
        parents: the parents' names, in the order of the table's axes.
        normalize: rescale each row to sum to one instead of requiring it (within ``ROW_SUM_TOL``).
        parent_cards: the parents' cardinalities, if known now (else the network supplies them).

    Attributes:
        states (list): state names. parents (list[str]). card (int).
        probs (torch.Tensor): float64, shape ``(*parent_cards, card)`` once the parents' cardinalities are
            known, else ``(prod(parent_cards), card)`` as given. Each row sums to one.
    """

    def __init__(self, states, probs, parents=None, *, normalize: bool = False, parent_cards=None) -> None:
        where = f"TabularCPD(states={_short_states(states)})"
        self.states = check_states(states, where)
        self.parents = check_parents(parents, where)
        self.card = len(self.states)
        probs = float64_array(probs, "probs", where)
        if probs.ndim == 0 or probs.shape[-1] != self.card:
            hint = ""
            if probs.ndim == 2 and probs.shape[0] == self.card:
                hint = " (it looks transposed: pgmpy puts states on rows; probgen puts them on columns)"
            raise ValueError(f"{where}: `probs` has shape {tuple(probs.shape)}, but its last axis must "
                             f"have one entry per state ({self.card}); rows are parent configurations, "
                             f"columns states{hint}")
        if not self.parents and probs.ndim != 1:
            raise ValueError(f"{where}: a CPD without parents needs probs of shape ({self.card},), "
                             f"got {tuple(probs.shape)}")
        if self.parents and probs.ndim not in (2, len(self.parents) + 1):
            raise ValueError(f"{where}: probs of shape {tuple(probs.shape)} fits neither "
                             f"(prod(parent_cards), {self.card}) nor (*parent_cards, {self.card}) "
                             f"for parents {self.parents}")
        self.probs = check_rows(probs, normalize, where)
        self._index = None  # state -> position, built by index() when first needed
        if parent_cards is not None:
            self.probs = self._reshaped(parent_cards, where).probs

    @classmethod
    def _from_checked(cls, states: list, probs: torch.Tensor, parents: list[str]) -> TabularCPD:
        """A CPD from parts its caller has checked (unique str states, distinct str parents, a float64
        table of shape ``(*parent_cards, card)`` whose rows are distributions): the BIF reader builds
        thousands at once and checks their tables together."""
        new = object.__new__(cls)
        new.states, new.parents, new.card, new.probs = states, parents, len(states), probs
        new._index = None
        return new

    @property
    def parent_cards(self) -> tuple[int, ...] | None:
        """The parents' cardinalities, or None while the table is still flat and they are ambiguous."""
        if self.probs.ndim == len(self.parents) + 1:
            return tuple(self.probs.shape[:-1])
        return None

    def index(self, state) -> int:
        """Position of ``state`` (a name) in ``states``; KeyError if it is not one of them."""
        if self._index is None:
            self._index = {s: i for i, s in enumerate(self.states)}
        return self._index[state]

    def with_parent_cards(self, parent_cards: Sequence[int], node: str | None = None) -> TabularCPD:
        """This CPD with its table reshaped to ``(*parent_cards, card)`` (a wrong size is a ValueError)."""
        return self._reshaped(parent_cards, f"CPT of {node!r}" if node else "TabularCPD")

    def _reshaped(self, parent_cards, where: str) -> TabularCPD:
        parent_cards = tuple(int(c) for c in parent_cards)
        if len(parent_cards) != len(self.parents):
            raise ValueError(f"{where}: {len(parent_cards)} parent cardinalities given for parents "
                             f"{self.parents}")
        want = (*parent_cards, self.card)
        shape = tuple(self.probs.shape)
        if shape == want:
            return self
        if self.probs.ndim == 2 and shape[0] == math.prod(parent_cards):
            return _replace_probs(self, self.probs.reshape(want))
        flat = f" or ({math.prod(parent_cards)}, {self.card})" if len(parent_cards) > 1 else ""
        raise ValueError(f"{where} has shape {shape} but parents {self.parents} with cardinalities "
                         f"{list(parent_cards)} need {want}{flat}")

    def point_mass(self, state) -> TabularCPD:
        """A root CPD over the same states that puts all mass on ``state`` (a name)."""
        probs = torch.zeros(self.card, dtype=torch.float64)
        probs[self.index(state)] = 1.0
        return TabularCPD(self.states, probs)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TabularCPD) and self.states == other.states
                and self.parents == other.parents and self.probs.shape == other.probs.shape
                and torch.equal(self.probs, other.probs))

    __hash__ = None  # mutable tensor inside: not hashable

    def __repr__(self) -> str:
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        return f"TabularCPD(P(X{given}), states={self.states}, probs shape {tuple(self.probs.shape)})"


def _short_states(states) -> str:
    if not isinstance(states, Sequence) or isinstance(states, str):
        return repr(states)
    return repr(list(states)) if len(states) <= 6 else repr(list(states[:6]))[:-1] + ", ...]"


def _replace_probs(cpd: TabularCPD, probs: torch.Tensor) -> TabularCPD:
    """A copy of ``cpd`` with an already-validated table (skips the row checks)."""
    new = object.__new__(TabularCPD)
    new.__dict__.update(cpd.__dict__)
    new.probs = probs
    return new
