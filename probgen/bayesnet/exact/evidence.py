"""From the user's evidence to observations: checked, encoded into state codes, one matrix.

Names along a query, one per stage:

- ``evidence``: what the user gives, a mapping ``node -> value``. A value is one state (a name, an index or
  a 0-d integer tensor: a single query) or one state per row (a list, NumPy array, pandas Series or integer
  tensor of shape ``(N,)``, where ``-1``, ``None`` or NaN leaves the node unobserved in that row; columns
  are read by position, a Series' index is ignored). Single values next to per-row ones are repeated over
  the rows. Two pandas forms stand for a mapping: a DataFrame is per-row evidence, one column per node, and
  a Series is one row, indexed by node (``df.iloc[i]``; its missing entries are unobserved nodes). Values
  become codes by the network's state encoder (``probgen.bayesnet.model.encoding``), so the rules are
  those of every other method.
- ``Observations`` (``obs``): the evidence parsed, node ids and a matrix of state ``codes``.
- ``codes``: that matrix, ``(N, k)`` int64 (``-1`` = unobserved in the row), or a block of its rows.
- the number of observations a table has absorbed (``absorbed``, in ``plan.py``), for rescaling.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from probgen.bayesnet.model.encoding import table_columns, unknown_node
from probgen.device import get_device

__all__ = ["Observations", "observe", "parse_evidence", "parse_targets", "num_rows", "check_dtype"]


@dataclass(frozen=True)
class Observations:
    """Parsed evidence, columns sorted by node id.

    Attributes:
        nodes: node id of each column.
        codes: ``(N, k)`` int64 tensor of state codes (batched; -1 = unobserved in that row) or a tuple of
            ``k`` codes.
        batched: whether any value was given per row (outputs then carry the row axis).
        num_rows: ``N`` (1 when not batched).
        full: per column, whether it is observed in every row.
    """

    nodes: tuple[int, ...]
    codes: torch.Tensor | tuple[int, ...]
    batched: bool
    num_rows: int
    full: tuple[bool, ...]

    def row(self, net, b: int) -> dict:
        """Row ``b`` as ``{node name: state name}`` (unobserved entries left out), for messages."""
        if not self.batched:
            return {net.names[v]: net.states[v][x] for v, x in zip(self.nodes, self.codes)}
        codes = self.codes[b].tolist()
        return {net.names[v]: net.states[v][x] for v, x in zip(self.nodes, codes) if x >= 0}


def node_id(net, name, what: str = "evidence on") -> int:
    """The id of node ``name``; an unknown name raises a ValueError that suggests close matches."""
    v = net.index.get(name) if isinstance(name, str) else None
    if v is None:
        raise unknown_node(name, net.names, what + " ")
    return v


def _is_scalar(value) -> bool:
    if isinstance(value, torch.Tensor | np.ndarray):
        return value.ndim == 0
    return isinstance(value, str | int | np.generic) or not hasattr(value, "__len__")


def as_mapping(evidence) -> dict:
    """The user's ``evidence`` as a dict node -> value: ``None`` is empty, a pandas DataFrame gives its
    columns, a pandas Series is one row (index -> value; missing entries left out). Anything else without
    ``items()`` is a TypeError."""
    if evidence is None:
        return {}
    pd = sys.modules.get("pandas")  # a pandas object brings pandas with it
    if pd is not None and isinstance(evidence, pd.DataFrame):
        return table_columns(evidence)
    if pd is not None and isinstance(evidence, pd.Series):
        return dict(evidence.dropna().items())
    if not hasattr(evidence, "items") or isinstance(evidence, type):
        raise TypeError(f"`evidence` must be a dict node -> state, got {type(evidence).__name__} (a pandas "
                        "DataFrame of per-row evidence, or a Series of one row, is read as one too)")
    return dict(evidence.items())


def _unwrap(value):
    """A 0-d NumPy array as its one value (``np.array("yes")`` is the state ``"yes"``)."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def num_rows(evidence) -> int:
    """N for per-row evidence (the longest per-row value; ``parse_evidence`` checks that they agree),
    else 1. Never raises: bad evidence is reported by ``parse_evidence``."""
    try:
        values = as_mapping(evidence).values()
        return max([len(x) for x in values if not _is_scalar(x)], default=1)
    except (TypeError, ValueError):
        return 1


def parse_evidence(net, evidence, device=None) -> Observations:
    """Check ``evidence`` against ``net`` (a ``compiled.Compiled``).

    Args:
        evidence: ``None`` or a mapping node -> value (see the module docstring).
        device: where per-row codes go (default: where the first evidence tensor is, else the CPU).
    """
    evidence = as_mapping(evidence)
    items = sorted(((node_id(net, n), _unwrap(x)) for n, x in evidence.items()), key=lambda vx: vx[0])
    nodes = tuple(v for v, _ in items)
    code = net.encoder.code
    if all(_is_scalar(x) for _, x in items):
        codes = tuple(code(net.names[v], x, "evidence on") for v, x in items)
        return Observations(nodes, codes, False, 1, (True,) * len(nodes))
    if device is None:
        device = next((x.device for _, x in items if isinstance(x, torch.Tensor) and x.dim() > 0), "cpu")
    cols = {v: net.encoder.column(net.names[v], x, what="evidence on", missing=True).to(device)
            for v, x in items if not _is_scalar(x)}
    lengths = {len(c) for c in cols.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{net.names[v]!r}: {len(c)}" for v, c in cols.items())
        raise ValueError(
            f"evidence tensors have different lengths ({sizes}); give every per-row value the same N"
        )
    n = lengths.pop()
    columns = [
        cols[v] if v in cols else
        torch.full((n,), code(net.names[v], x, "evidence on"), dtype=torch.int64, device=device)
        for v, x in items
    ]
    codes = torch.stack(columns, 1)  # (N, k)
    full = tuple((codes >= 0).all(0).tolist()) if n else (True,) * len(nodes)
    return Observations(nodes, codes, True, n, full)


def observe(net, evidence, device) -> tuple[Observations, torch.device]:
    """Parsed evidence and the device to compute on (``device`` if given, else the evidence tensors',
    else the CPU)."""
    if device is not None:
        device = get_device(device)
    obs = parse_evidence(net, evidence, device)
    if device is None:
        device = obs.codes.device if obs.batched else torch.device("cpu")
    return obs, device


def check_dtype(dtype) -> torch.dtype:
    """``dtype`` if it is ``torch.float64`` or ``torch.float32`` (the types queries compute in)."""
    if dtype not in (torch.float64, torch.float32):
        raise TypeError(f"`dtype`={dtype!r}: use torch.float64 or torch.float32")
    return dtype


def parse_targets(net, targets, obs: Observations) -> list[int]:
    """Node ids of ``targets`` (a name or a list of names); default: every node without evidence."""
    if targets is None:
        observed = set(obs.nodes)
        return [v for v in range(len(net.names)) if v not in observed]
    if isinstance(targets, str) or not hasattr(targets, "__iter__"):
        targets = [targets]
    ids = [node_id(net, t, what="query on") for t in targets]
    if len(set(ids)) != len(ids):
        raise ValueError(f"`targets` lists a node twice: {list(targets)}")
    return ids
