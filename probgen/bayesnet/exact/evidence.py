"""Evidence and query targets, checked and turned into integer columns.

Evidence is a mapping ``node -> value``. A value is either one state (its name, or its index as an int or
a 0-d tensor), which is a single query, or one state per row: an integer tensor, NumPy array or list of
shape ``(N,)`` where ``-1`` (or ``None`` in a list) means "not observed in this row". Single values next
to per-row ones are repeated over the rows. Every mistake raises a ValueError or TypeError that names the
node and echoes the value.
"""

from __future__ import annotations

import difflib
import numbers
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Evidence", "parse_evidence", "parse_targets"]


@dataclass(frozen=True)
class Evidence:
    """Parsed evidence, columns sorted by node id.

    Attributes:
        nodes: node id of each column.
        values: ``(N, k)`` int64 tensor (batched; -1 = unobserved in that row) or a tuple of ``k`` ints.
        batched: whether any value was given per row (outputs then carry the row axis).
        n_rows: ``N`` (1 when not batched).
        full: per column, whether it is observed in every row.
    """

    nodes: tuple[int, ...]
    values: torch.Tensor | tuple[int, ...]
    batched: bool
    n_rows: int
    full: tuple[bool, ...]

    def row(self, net, b: int) -> dict:
        """Row ``b`` as ``{node name: state name}`` (unobserved entries left out), for messages."""
        if not self.batched:
            return {net.names[v]: net.states[v][x] for v, x in zip(self.nodes, self.values)}
        vals = self.values[b].tolist()
        return {net.names[v]: net.states[v][x] for v, x in zip(self.nodes, vals) if x >= 0}


def node_id(net, name, what: str = "evidence") -> int:
    """The id of node ``name``; an unknown name raises a ValueError that suggests close matches."""
    try:
        return net.index[name]
    except (KeyError, TypeError):
        pass
    close = difflib.get_close_matches(str(name), [str(n) for n in net.names], n=3)
    hint = (
        f"; did you mean {', '.join(map(repr, close))}?"
        if close
        else f"; the network's nodes are {_some(net.names)}"
    )
    raise ValueError(f"{what} on unknown node {name!r}{hint}")


def state_id(net, v: int, value) -> int:
    """Index of ``value`` (a state name, or an int index) among node ``v``'s states."""
    states = net.states[v]
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if value in states and not isinstance(value, bool):
        for i, s in enumerate(states):
            if s == value and type(s) is type(value):
                return i
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if 0 <= value < len(states):
            return int(value)
        raise ValueError(
            f"evidence on {net.names[v]!r}: state index {value} is out of range; it has {len(states)} states "
            f"(0..{len(states) - 1}: {_some(states)})"
        )
    if isinstance(value, str) and value in [str(s) for s in states]:
        return [str(s) for s in states].index(value)
    raise ValueError(f"evidence on {net.names[v]!r}: unknown state {value!r}; its states are {_some(states)}")


def _some(items, k: int = 12) -> str:
    items = list(items)
    shown = ", ".join(map(repr, items[:k]))
    return (
        f"[{shown}{', ...' if len(items) > k else ''}] ({len(items)} in all)"
        if len(items) > k
        else f"[{shown}]"
    )


def _is_scalar(value) -> bool:
    if isinstance(value, torch.Tensor | np.ndarray):
        return value.ndim == 0
    return not isinstance(value, list | tuple)


def num_rows(evidence) -> int:
    """N for per-row evidence (the longest per-row value; :func:`parse_evidence` checks that they agree),
    else 1."""
    values = evidence.values() if hasattr(evidence, "values") else ()
    return max([len(x) for x in values if not _is_scalar(x)], default=1)


def _column(net, v: int, value, device) -> torch.Tensor:
    """A per-row value as an int64 tensor ``(N,)`` of state indices or -1."""
    name = net.names[v]
    if isinstance(value, list | tuple):
        value = [
            -1 if x is None else (x if isinstance(x, int) and x == -1 else state_id(net, v, x)) for x in value
        ]
        value = torch.tensor(value, dtype=torch.int64)
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu":
            raise TypeError(
                f"evidence on {name!r}: an array of dtype {value.dtype}; give integer state indices"
            )
        value = torch.from_numpy(value)
    if value.dim() != 1:
        raise ValueError(
            f"evidence on {name!r}: a tensor of shape {tuple(value.shape)}; give one value per row, "
            "shape (N,)"
        )
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
        raise TypeError(
            f"evidence on {name!r}: a tensor of dtype {value.dtype}; give int64 state indices "
            "(-1 = unobserved)"
        )
    value = value.to(device=device, dtype=torch.int64)
    bad = (value < -1) | (value >= net.cards[v])
    if bool(bad.any()):
        row = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"evidence on {name!r}: row {row} has state index {int(value[row])}, "
            f"outside 0..{net.cards[v] - 1} "
            f"(-1 means unobserved)"
        )
    return value


def parse_evidence(net, evidence, device=None) -> Evidence:
    """Check ``evidence`` against ``net`` (a :class:`~probgen.bayesnet.compiled.Compiled`).

    Args:
        evidence: ``None`` or a mapping node -> value (see the module docstring).
        device: where per-row values go (default: where the first evidence tensor is, else the CPU).
    """
    if evidence is None:
        evidence = {}
    if not hasattr(evidence, "items"):
        raise TypeError(f"`evidence` must be a dict node -> state, got {type(evidence).__name__}")
    items = sorted(((node_id(net, n), x) for n, x in evidence.items()), key=lambda vx: vx[0])
    nodes = tuple(v for v, _ in items)
    if all(_is_scalar(x) for _, x in items):
        values = tuple(state_id(net, v, x) for v, x in items)
        return Evidence(nodes, values, False, 1, (True,) * len(nodes))
    if device is None:
        device = next((x.device for _, x in items if isinstance(x, torch.Tensor) and x.dim() > 0), "cpu")
    cols = {v: _column(net, v, x, device) for v, x in items if not _is_scalar(x)}
    lengths = {len(c) for c in cols.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{net.names[v]!r}: {len(c)}" for v, c in cols.items())
        raise ValueError(
            f"evidence tensors have different lengths ({sizes}); give every per-row value the same N"
        )
    n_rows = lengths.pop()
    columns = [
        cols[v] if v in cols else torch.full((n_rows,), state_id(net, v, x), dtype=torch.int64, device=device)
        for v, x in items
    ]
    values = torch.stack(columns, 1)  # (N, k)
    full = tuple((values >= 0).all(0).tolist()) if n_rows else (True,) * len(nodes)
    return Evidence(nodes, values, True, n_rows, full)


def parse_targets(net, targets, evidence: Evidence) -> list[int]:
    """Node ids of ``targets`` (a name or a list of names); default: every node without evidence."""
    if targets is None:
        observed = set(evidence.nodes)
        return [v for v in range(len(net.names)) if v not in observed]
    if isinstance(targets, str) or not hasattr(targets, "__iter__"):
        targets = [targets]
    ids = [node_id(net, t, what="query") for t in targets]
    if len(set(ids)) != len(ids):
        raise ValueError(f"`targets` lists a node twice: {list(targets)}")
    return ids
