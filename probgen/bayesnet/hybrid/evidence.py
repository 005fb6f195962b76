"""Values of a hybrid network's nodes (evidence, data), checked and turned into tensors.

A discrete node takes a state name or an int index (one value), or one per row (a list, array or int64
tensor of shape ``(N,)``); a float is refused. A continuous scalar node takes a number, or one per row
(``(N,)``); a state name (str) is refused, and so are NaN and inf unless the caller allows NaN as "not
observed in this row". An array-valued node takes one value of its ``event_shape`` or ``(N, *event_shape)``.
Single values next to per-row ones are repeated over the rows. Every mistake is an error naming the node.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from probgen.bayesnet.model.variables import Variable

__all__ = ["Observed", "encode_values"]


@dataclass(frozen=True)
class Observed:
    """Encoded values.

    Attributes:
        values: node -> int64 ``(N,)`` state indices, float64 ``(N,)``, or ``(N, *event_shape)``.
        num_rows: N (1 when nothing was given per row).
        batched: whether some value was given per row (results then keep the row axis).
    """

    values: dict[str, torch.Tensor]
    num_rows: int
    batched: bool

    @property
    def nodes(self) -> list[str]:
        return list(self.values)


def encode_values(net, values, what: str = "evidence", allow_nan: bool = False) -> Observed:
    """Check and encode ``values`` (dict node -> value(s), or a pandas DataFrame) for ``net``.

    Args:
        net: a ``HybridNetwork`` (``variables``, ``nodes``).
        values: see the module docstring.
        what: the word used in messages ("evidence", "data").
        allow_nan: let NaN in a continuous scalar node's column mean "not observed in this row".
    """
    if values is None:
        return Observed({}, 1, False)
    if hasattr(values, "columns") and hasattr(values, "to_numpy"):
        values = {str(c): values[c].to_numpy() for c in values.columns}
    if not isinstance(values, Mapping):
        raise TypeError(f"{what} must be a dict node -> value(s), got {type(values).__name__}")
    enc: dict[str, tuple[torch.Tensor, bool]] = {}
    for n, v in values.items():
        var = net.variables.get(n) if isinstance(n, str) else None
        if var is None:
            raise ValueError(f"{what} on unknown node {n!r}{_close(n, net.nodes)}")
        enc[n] = (_encode_discrete(n, v, var, what) if var.discrete
                  else _encode_continuous(n, v, var, what, allow_nan))
    sizes = {n: len(t) for n, (t, rows) in enc.items() if rows}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{what} columns have different numbers of rows: {sizes}")
    n_rows = next(iter(sizes.values())) if sizes else 1
    out = {}
    for n, (t, rows) in enc.items():
        out[n] = t if rows else t.unsqueeze(0).expand(n_rows, *t.shape).contiguous()
    return Observed(out, n_rows, bool(sizes))


def _close(name, nodes) -> str:
    close = difflib.get_close_matches(str(name), [str(n) for n in nodes], n=3)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else f"; nodes: {list(nodes)[:20]}"


def _state(n: str, v, var: Variable, what: str) -> int:
    if isinstance(v, np.generic):
        v = v.item()
    for i, s in enumerate(var.states):
        if s == v and type(s) is type(v):
            return i
    if isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v < var.card:
        return int(v)
    if isinstance(v, float):
        raise TypeError(f"{what} on discrete node {n!r}: got the float {v!r}; give a state name (one of "
                        f"{list(var.states)}) or an int index 0..{var.card - 1}")
    raise ValueError(f"{what} on {n!r}: unknown state {v!r}; its states are {list(var.states)} (or an "
                     f"index 0..{var.card - 1})")


def _encode_discrete(n: str, v, var: Variable, what: str) -> tuple[torch.Tensor, bool]:
    if isinstance(v, torch.Tensor):
        if v.is_floating_point() or v.is_complex():
            raise TypeError(f"{what} on discrete node {n!r}: got a {v.dtype} tensor; give int64 state "
                            f"indices 0..{var.card - 1} or state names {list(var.states)}")
        if v.ndim > 1:
            raise ValueError(f"{what} on {n!r}: expected one state or a column (N,), got shape "
                             f"{tuple(v.shape)}")
        t = v.to(torch.long)
        bad = (t < 0) | (t >= var.card)
        if bad.any():
            raise ValueError(f"{what} on {n!r}: state index {int(t[bad][0])} out of range 0..{var.card - 1}")
        return (t, True) if t.ndim else (t, False)
    if isinstance(v, list | tuple | np.ndarray):
        arr = np.asarray(v, dtype=object).reshape(-1) if not isinstance(v, np.ndarray) else v.reshape(-1)
        return torch.tensor([_state(n, x, var, what) for x in arr.tolist()], dtype=torch.long), True
    return torch.tensor(_state(n, v, var, what), dtype=torch.long), False


def _encode_continuous(n, v, var: Variable, what: str, allow_nan: bool) -> tuple[torch.Tensor, bool]:
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and not var.event_shape \
            and math.isfinite(v):  # the common single number: no array round trip
        return torch.tensor(float(v), dtype=torch.float64), False
    if isinstance(v, str | bytes) or (isinstance(v, list | tuple) and any(isinstance(x, str) for x in v)):
        raise TypeError(f"{what} on continuous node {n!r}: got the state name {v!r}; give a number "
                        "(or one number per row)")
    try:
        if isinstance(v, torch.Tensor):
            # array-valued (neural) nodes keep a floating dtype (images stay float32); scalars are float64
            keep = var.event_shape and v.is_floating_point()
            t = v.detach() if keep else v.detach().to(torch.float64)
        else:
            t = torch.as_tensor(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{what} on continuous node {n!r}: expected numbers, got {v!r}") from None
    ev = var.event_shape
    if tuple(t.shape) == ev:
        rows = False
    elif t.ndim == len(ev) + 1 and tuple(t.shape[1:]) == ev:
        rows = True
    else:
        raise ValueError(f"{what} on {n!r}: expected one value of shape {ev} or rows (N, *{ev}), got shape "
                         f"{tuple(t.shape)}")
    bad = ~torch.isfinite(t)
    if allow_nan and not ev:
        bad = bad & ~torch.isnan(t)
    if bad.any():
        at = f" in row {int(bad.reshape(len(t), -1).any(-1).nonzero()[0])}" if rows else ""
        raise ValueError(f"{what} on {n!r}{at} is {t[bad][0].item()}; values must be finite"
                         + ("" if allow_nan else " (NaN is not a missing-value marker here)"))
    return t, rows


def parse_targets(net, targets, observed) -> list[str]:
    """Query nodes in topological order: ``targets`` (a node or a list), default every unobserved node.

    An unknown node or an observed one is a ValueError naming it.
    """
    observed = set(observed)
    if targets is None:
        return [n for n in net.nodes if n not in observed]
    if isinstance(targets, str):
        targets = [targets]
    targets = list(targets)
    for t in targets:
        if t not in net.variables:
            raise ValueError(f"query on unknown node {t!r}{_close(t, net.nodes)}")
        if t in observed:
            raise ValueError(f"query node {t!r} is also observed; leave it out of the targets or the "
                             "evidence")
    want = set(targets)
    return [n for n in net.nodes if n in want]
