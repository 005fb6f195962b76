"""Discrete data for learning, encoded once into state codes.

Data is a table of rows: a dict node -> column, a pandas DataFrame (one column per node), or the path of a
CSV file with a header row. Columns go through the state encoder (``probgen.bayesnet.model.encoding``): an
integer tensor holds state codes; any other column holds state names or indices by the encoder's rules
(a pandas category column through its categories, an object column through ``pandas.factorize``, never
a Python loop over rows). A float column of whole numbers, what pandas makes of an integer column with
gaps, is read as integers. When a node's states are not given, they are read off its column (a tensor's
are ``range(max + 1)``, any other column's its distinct values, sorted).

Missing cells (``None``, NaN, pandas' NA, ``-1`` in an integer column or tensor; in a CSV file an empty
cell or ``NA``, ``NaN``, ``nan``, ``?``) are coded -1 where a ``DataTable`` allows them
(``allow_missing=True``) and refused otherwise. Every estimate and score is made from the counts
``N[parent configuration, state]``, one ``bincount`` per node.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import numpy as np
import torch

from probgen.bayesnet.model.cpd import check_states
from probgen.bayesnet.model.encoding import StateEncoder, infer_states, short_list, table_columns
from probgen.bayesnet.model.network import BayesNet

__all__ = ["DataTable", "as_table", "read_table", "structure_parents", "NA_VALUES"]

#: Cells of a CSV file read as missing.
NA_VALUES = ("", "NA", "NaN", "nan", "?")


class DataTable:
    """Discrete data, encoded once: ``columns[n]`` is an int64 tensor (N,) of state codes (-1: missing).

    Args:
        data: dict node -> column, a pandas DataFrame (one column per node), or a CSV path (str or Path).
        states: optional dict node -> list of state names. Columns of names default to their sorted
            distinct values; int tensors to ``range(max + 1)``.
        allow_missing: accept missing cells (coded -1); otherwise they are an error naming the column.

    Attributes:
        nodes (list[str]): the columns' names, in order. states (dict[str, list]). num_rows (int).
        columns (dict[str, torch.Tensor]): int64 (N,) state codes per node, -1 where a cell is missing.
    """

    def __init__(self, data, states: Mapping | None = None, *, allow_missing: bool = False) -> None:
        data = _columns(data)
        states = dict(states or {})
        self.nodes: list[str] = list(data)
        self.states: dict[str, list] = {}
        self.columns: dict[str, torch.Tensor] = {}
        for n, col in data.items():
            self.columns[n], self.states[n] = encode_column(n, col, states.get(n), allow_missing)
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) != 1:
            sizes = {n: len(c) for n, c in self.columns.items()}
            raise ValueError(f"data columns have different lengths: {sizes}")
        self.num_rows = lengths.pop()
        if self.num_rows == 0:
            raise ValueError("data has no rows")
        self._complete: torch.Tensor | None = None
        self._gaps = {n: bool(c.numel()) and int(c.min()) < 0 for n, c in self.columns.items()}

    def __repr__(self) -> str:
        gaps = f", {self.num_missing_cells} missing cells" if self.num_missing_cells else ""
        return (f"DataTable({self.num_rows} rows, {len(self.nodes)} columns{gaps}: "
                f"{short_list(self.nodes, 8)})")

    @property
    def cards(self) -> dict[str, int]:
        return {n: len(s) for n, s in self.states.items()}

    @property
    def num_missing_cells(self) -> int:
        return sum(int((self.columns[n] < 0).sum()) for n, gap in self._gaps.items() if gap)

    def has_missing(self, node: str | None = None) -> bool:
        """Whether ``node``'s column (or any column) has a missing cell."""
        return any(self._gaps.values()) if node is None else self._gaps[node]

    def complete_rows(self) -> torch.Tensor:
        """bool (N,): the rows without a missing cell."""
        if self._complete is None:
            ok = torch.ones(self.num_rows, dtype=torch.bool)
            for n, gap in self._gaps.items():
                if gap:
                    ok &= self.columns[n] >= 0
            self._complete = ok
        return self._complete

    def require_complete(self, what: str) -> None:
        """Raise a ValueError naming the first column with missing cells (for methods needing whole rows)."""
        for n, gap in self._gaps.items():
            if gap:
                gone = self.columns[n] < 0
                row = int(gone.nonzero()[0, 0])
                raise ValueError(f"{what} needs complete rows, but data column {n!r} has {int(gone.sum())} "
                                 f"missing cell(s) (first in row {row}); drop the rows with gaps (e.g. "
                                 "df.dropna()) or fit tables by EM with bn.fit")

    def counts(self, node: str, parents) -> torch.Tensor:
        """Counts N[parent config, state] over the rows where the family is observed, float64
        ``(*parent_cards, card)``."""
        return torch.from_numpy(self.count_array(node, parents))

    def count_array(self, node: str, parents) -> np.ndarray:
        """``counts`` as a NumPy float64 array (no torch call: searches count thousands of families)."""
        family = [*parents, node]
        cards = [len(self.states[p]) for p in family]
        cols = [self.columns[p].numpy() for p in family]  # int64 views, no copies
        flat = cols[0]
        for col, c in zip(cols[1:], cards[1:]):
            if flat is cols[0]:
                flat = flat * c  # a new array; then in place: one allocation per family
            else:
                flat *= c
            flat += col  # (N,)
        gaps = [col for p, col in zip(family, cols) if self._gaps[p]]
        if gaps:
            seen = gaps[0] >= 0
            for col in gaps[1:]:
                seen &= col >= 0
            flat = flat[seen]
        return np.bincount(flat, minlength=math.prod(cards)).astype(np.float64).reshape(cards)


def _columns(data) -> dict:
    """dict name -> column of a dict, a DataFrame or a CSV file; the names as str."""
    if isinstance(data, str | os.PathLike):
        data = read_table(data)
    if not isinstance(data, Mapping) and not hasattr(data, "iloc"):
        raise TypeError("data must be a dict node -> column, a pandas DataFrame or a CSV path, got "
                        f"{type(data).__name__}")
    data = {str(n): col for n, col in table_columns(data).items()}
    if not data:
        raise ValueError("data has no columns; give one column per node")
    return data


def read_table(path) -> dict:
    """Columns of a CSV file with a header row: pandas category columns if pandas is installed, else lists
    of str (a missing cell, one of ``NA_VALUES``, is None)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no CSV file at {str(path)!r}")
    try:
        import pandas as pd
    except ImportError:
        return _read_csv_plain(path)
    try:
        frame = pd.read_csv(path, dtype="category", keep_default_na=False, na_values=list(NA_VALUES))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a readable CSV file ({str(e).strip()})") from None
    return {str(c): frame[c] for c in frame.columns}


def _read_csv_plain(path: Path) -> dict:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty file; it needs a header row")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise ValueError(f"{path}: line {bad[0]} has {len(body[bad[0] - 2])} fields, the header "
                         f"{len(header)}")
    na = set(NA_VALUES)
    return {h: [None if r[j] in na else r[j] for r in body] for j, h in enumerate(header)}


def encode_column(n: str, col, states, allow_missing: bool) -> tuple[torch.Tensor, list]:
    """A column's codes (N,) (-1 where missing) and its states (given, or read off the column)."""
    col = _numeric(n, col, allow_missing)
    if states is None:
        states, codes = infer_states(n, col, missing=allow_missing)
        if not states:
            raise ValueError(f"data column {n!r} has no observed value, so its states are unknown; give "
                             "them (states=...) or leave the column out")
        return codes.cpu(), check_states(states, f"states of {n!r}")
    states = check_states(states, f"states of {n!r}")
    codes = StateEncoder({n: states}).column(n, col, what="data column", missing=allow_missing)
    return codes.cpu(), states


def _numeric(n: str, col, allow_missing: bool):
    """Float columns of whole numbers (NumPy or pandas; NaN allowed) and pandas' nullable integer columns
    as int64 arrays, -1 where a cell is missing; any other column unchanged. A fractional value is a
    TypeError, a missing cell where none is allowed a ValueError, each naming the column and the row."""
    dtype = getattr(col, "dtype", None)
    if isinstance(col, torch.Tensor) or getattr(dtype, "kind", "") not in "fiu" or dtype is None:
        return col
    if dtype.kind in "iu" and isinstance(dtype, np.dtype):
        return col  # plain integers (NumPy or pandas): the encoder's fast path
    if hasattr(col, "to_numpy"):  # pandas: float64, Float64 or Int64 with NA
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = np.asarray(col, dtype=np.float64)
    if arr.ndim != 1:
        return col  # the encoder names the wrong shape
    nan = np.isnan(arr)
    bad = ~nan & ((arr != np.round(arr)) | (arr < -1) | ~np.isfinite(arr))
    if bad.any():
        row = int(np.argmax(bad))
        raise TypeError(f"data column {n!r}: {float(arr[row])!r} (row {row}) is not a state; a float column "
                        "must hold whole state indices (NaN for missing cells)")
    if nan.any() and not allow_missing:
        raise ValueError(f"data column {n!r} has missing values (NaN, first in row {int(np.argmax(nan))}); "
                         "every row needs a state here")
    return np.where(nan, -1, arr).astype(np.int64)


def as_table(data, states: Mapping | None = None, *, allow_missing: bool = False) -> DataTable:
    """``data`` as a ``DataTable`` (itself if it already is one)."""
    return data if isinstance(data, DataTable) else DataTable(data, states, allow_missing=allow_missing)


def structure_parents(structure, table: DataTable) -> tuple[nx.DiGraph, dict[str, list[str]]]:
    """The graph and each node's parent order (a BayesNet's CPT order, else the data's column order)."""
    if not isinstance(structure, nx.DiGraph | BayesNet):
        raise TypeError(f"structure must be an nx.DiGraph or a BayesNet, got {type(structure).__name__}")
    missing = [n for n in (structure.nodes if isinstance(structure, BayesNet) else structure)
               if n not in table.columns]
    if missing:
        raise ValueError(f"nodes {missing} of the structure have no column in the data "
                         f"(columns: {short_list(table.nodes)})")
    if isinstance(structure, BayesNet):
        return structure.graph, {n: structure.parents(n) for n in structure.nodes}
    pos = {n: i for i, n in enumerate(table.nodes)}
    return structure, {n: sorted(structure.predecessors(n), key=pos.__getitem__) for n in structure.nodes}
