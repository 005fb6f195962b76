"""Complete discrete data for learning, encoded once into state codes.

Data is a table of complete rows: a dict node -> column or a pandas DataFrame (one column per node).
Columns go through the state encoder (``probgen.bayesnet.model.encoding``): an integer tensor holds state
codes; any other column holds state names or indices by the encoder's rules. When a node's states are not
given, they are read off its column (a tensor's are ``range(max + 1)``, any other column's its distinct
values, sorted). Every estimate and score is made from the counts ``N[parent configuration, state]``,
one ``torch.bincount`` per node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
import torch

from probgen.bayesnet.model.cpd import check_states
from probgen.bayesnet.model.encoding import StateEncoder, infer_states, table_columns
from probgen.bayesnet.model.network import BayesNet

__all__ = ["DataTable", "as_table", "structure_parents"]


class DataTable:
    """Complete discrete data, encoded once: ``columns[n]`` is an int64 tensor (N,) of state codes.

    Args:
        data: dict node -> column, or a pandas DataFrame (one column per node).
        states: optional dict node -> list of state names. Columns of names default to their sorted
            distinct values; int tensors to ``range(max + 1)``.

    Attributes:
        nodes (list[str]): the columns' names, in order. states (dict[str, list]). num_rows (int).
        columns (dict[str, torch.Tensor]): int64 (N,) state codes per node.
    """

    def __init__(self, data, states: Mapping | None = None) -> None:
        if not isinstance(data, Mapping) and not hasattr(data, "iloc"):
            raise TypeError(f"data must be a non-empty dict node -> column or a pandas DataFrame, "
                            f"got {type(data).__name__}")
        data = table_columns(data)
        if not data:
            raise TypeError("data must be a non-empty dict node -> column or a pandas DataFrame, got an "
                            "empty one")
        states = dict(states or {})
        self.nodes: list[str] = [str(n) for n in data]
        self.states: dict[str, list] = {}
        self.columns: dict[str, torch.Tensor] = {}
        for n, col in data.items():
            self.columns[str(n)], self.states[str(n)] = _encode(str(n), col, states.get(n))
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) != 1:
            sizes = {n: len(c) for n, c in self.columns.items()}
            raise ValueError(f"data columns have different lengths: {sizes}")
        self.num_rows = lengths.pop()
        if self.num_rows == 0:
            raise ValueError("data has no rows")

    def __repr__(self) -> str:
        return f"DataTable({self.num_rows} rows, {len(self.nodes)} columns: {self.nodes[:8]})"

    @property
    def cards(self) -> dict[str, int]:
        return {n: len(s) for n, s in self.states.items()}

    def counts(self, node: str, parents) -> torch.Tensor:
        """Counts N[parent config, state], float64 of shape (*parent_cards, card)."""
        cards = [len(self.states[p]) for p in parents] + [len(self.states[node])]
        flat = torch.zeros(self.num_rows, dtype=torch.int64)
        for p, c in zip([*parents, node], cards):
            flat = flat * c + self.columns[p]  # (N,)
        return torch.bincount(flat, minlength=math.prod(cards)).to(torch.float64).reshape(cards)


def _encode(n: str, col, states) -> tuple[torch.Tensor, list]:
    """A column's codes (N,) and its states (given, or read off the column)."""
    if states is None:
        states, codes = infer_states(n, col)
        return codes.cpu(), check_states(states, f"states of {n!r}")
    states = check_states(states, f"states of {n!r}")
    return StateEncoder({n: states}).column(n, col, what="data column").cpu(), states


def as_table(data, states: Mapping | None = None) -> DataTable:
    """``data`` as a ``DataTable`` (itself if it already is one)."""
    return data if isinstance(data, DataTable) else DataTable(data, states)


def structure_parents(structure, table: DataTable) -> tuple[nx.DiGraph, dict[str, list[str]]]:
    """The graph and each node's parent order (a BayesNet's CPT order, else the data's column order)."""
    if isinstance(structure, BayesNet):
        return structure.graph, {n: structure.parents(n) for n in structure.nodes}
    if not isinstance(structure, nx.DiGraph):
        raise TypeError(f"structure must be an nx.DiGraph or a BayesNet, got {type(structure).__name__}")
    missing = [n for n in structure.nodes if n not in table.columns]
    if missing:
        raise ValueError(f"nodes {missing} of the structure have no column in the data "
                         f"(columns: {table.nodes})")
    pos = {n: i for i, n in enumerate(table.nodes)}
    return structure, {n: sorted(structure.predecessors(n), key=pos.__getitem__) for n in structure.nodes}
