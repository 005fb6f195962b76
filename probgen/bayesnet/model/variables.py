"""Shared pieces of the hybrid conditionals: what a node's values are, parent lists, parameter arrays.

A node is either *discrete* (its values are int64 state indices, with state names) or *continuous* (its
values are float tensors of a fixed ``event_shape``, ``()`` for a scalar). ``Variable`` says which;
every conditional of this package can tell the network the variable of its node, and is *bound* by the
network to its parents' variables (which parents are discrete, their cardinalities, their shapes).
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

DISCRETE = "discrete"
CONTINUOUS = "continuous"


@dataclass(frozen=True)
class Variable:
    """The kind of values a node takes.

    Attributes:
        kind: ``"discrete"`` (values are int64 state indices) or ``"continuous"`` (float tensors).
        states: the state names of a discrete node (empty for a continuous one).
        event_shape: the shape of one value of a continuous node (``()`` for a scalar; ``()`` if discrete).
    """

    kind: str
    states: tuple = ()
    event_shape: tuple[int, ...] = ()

    @property
    def discrete(self) -> bool:
        return self.kind == DISCRETE

    @property
    def card(self) -> int:
        """Number of states (0 for a continuous node)."""
        return len(self.states)

    def describe(self) -> str:
        if self.discrete:
            return f"discrete with {self.card} states"
        return "continuous" + (f" of shape {self.event_shape}" if self.event_shape else " (scalar)")


def check_parents(parents, where: str) -> list[str]:
    """A list of distinct parent names (str); a single str is one parent, None is none."""
    if parents is None:
        return []
    if isinstance(parents, str):
        parents = [parents]
    if isinstance(parents, Mapping | set | frozenset) or not isinstance(parents, Iterable):
        raise TypeError(f"{where}: `parents` must be a list of node names, got {parents!r}")
    parents = list(parents)
    for p in parents:
        if not isinstance(p, str):
            raise TypeError(f"{where}: parent names must be str, got {p!r} ({type(p).__name__})")
    dups = sorted({p for p in parents if parents.count(p) > 1})
    if dups:
        raise ValueError(f"{where}: parent(s) {dups} listed more than once in parents {parents}")
    return parents


def check_states(states, where: str) -> list:
    """A non-empty list of state names, str or int (NumPy ints become ints), unique as text: the state
    encoder matches values by their text, so ``[1, "1"]`` is refused. One rule for every discrete node
    (``TabularCPD``, ``SoftmaxCPD``, ``NeuralCPD``) and for data columns."""
    if isinstance(states, str | bytes) or not isinstance(states, Sequence | np.ndarray):
        raise TypeError(f"{where}: `states` must be a list of state names, got {states!r}")
    out = []
    for s in states:
        if isinstance(s, np.integer):
            s = int(s)
        if isinstance(s, bool) or not isinstance(s, str | int):
            raise TypeError(f"{where}: state names must be str or int, got {s!r} ({type(s).__name__})")
        out.append(s)
    if not out:
        raise ValueError(f"{where}: `states` is empty; a variable needs at least one state")
    seen = set()
    dups = [s for s in out if str(s) in seen or seen.add(str(s))]
    if dups:
        raise ValueError(f"{where}: duplicate state names {sorted(set(map(repr, dups)))} in states {out!r}; "
                         "state names must be unique, also as text (1 and '1' name one state)")
    return out


def float64_array(value, name: str, where: str) -> torch.Tensor:
    """``value`` (number, nested list, ndarray or tensor) as a float64 CPU tensor with finite entries."""
    try:
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu", torch.float64).clone()
        else:
            t = torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (ValueError, TypeError) as e:
        raise TypeError(f"{where}: `{name}` must be a number or an array of numbers, got "
                        f"{reprlib.repr(value)} ({e})") from None
    if not torch.isfinite(t).all():
        bad = tuple(int(i) for i in (~torch.isfinite(t)).nonzero()[0]) if t.ndim else ()
        raise ValueError(f"{where}: `{name}` contains NaN or infinite values (first at index {bad}); "
                         "parameters must be finite")
    return t


def discrete_split(parents: list[str], variables: Mapping[str, Variable]) -> tuple[list[str], list[str]]:
    """The discrete and the continuous parents, each in the order of ``parents``."""
    disc = [p for p in parents if variables[p].discrete]
    cont = [p for p in parents if not variables[p].discrete]
    return disc, cont


def parent_value(values: Mapping, node: str | None, parent: str) -> torch.Tensor:
    """``values[parent]``, or a ValueError that names the node and the missing parent."""
    try:
        return values[parent]
    except KeyError:
        who = f"node {node!r}" if node else "this conditional"
        raise ValueError(f"{who} needs the value of its parent {parent!r}; got values for "
                         f"{sorted(map(str, values))}") from None
    except TypeError:
        raise TypeError(f"parent values must be a dict parent -> tensor, got "
                        f"{type(values).__name__}") from None


def config_axes_check(arr: torch.Tensor, cards: Sequence[int], name: str, where: str,
                      tail: tuple[int, ...] = ()) -> torch.Tensor:
    """Broadcast ``arr`` (``(*cards, *tail)`` or broadcastable to it) to exactly that shape, else a
    ValueError that shows the expected layout."""
    want = (*cards, *tail)
    try:
        return torch.broadcast_to(arr, want).clone()
    except RuntimeError:
        raise ValueError(f"{where}: `{name}` has shape {tuple(arr.shape)}, but the discrete parents' "
                         f"cardinalities {list(cards)} need {want} (leading axes: one per discrete parent, "
                         "in the order of `parents`)") from None


def where_name(kind: str, node: str | None) -> str:
    return f"{kind} of {node!r}" if node else kind
