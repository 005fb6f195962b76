"""Discrete data for learning, encoded once into state codes.

Data is a table of rows: a dict node -> column, a pandas DataFrame (one column per node), or the path of a
CSV file with a header row. Columns go through the state encoder (``probgen.bayesnet.model.encoding``): an
integer tensor holds state codes; any other column holds state names or indices by the encoder's rules
(a pandas category column through its categories, an object column through ``pandas.factorize``, never
a Python loop over rows). Where gaps are allowed (``bn.fit``), a float column of whole numbers, what
pandas makes of an integer column with gaps, is read as integers. When a node's states are not given,
they are read off its column (a tensor's are ``range(max + 1)``, any other column's its distinct values,
sorted).

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

from probgen.bayesnet.model.encoding import StateEncoder, infer_states, short_list, table_columns
from probgen.bayesnet.model.network import BayesNet
from probgen.bayesnet.model.variables import check_states

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
        self.codes: dict[str, np.ndarray] = {}  # (N,) compact integer codes, -1 where missing
        for n, col in data.items():
            self.codes[n], self.states[n] = encode_column(n, col, states.get(n), allow_missing)
        lengths = {len(c) for c in self.codes.values()}
        if len(lengths) != 1:
            sizes = {n: len(c) for n, c in self.codes.items()}
            raise ValueError(f"data columns have different lengths: {sizes}")
        self.num_rows = lengths.pop()
        if self.num_rows == 0:
            raise ValueError("data has no rows")
        self.columns = _Int64Columns(self.codes)
        self._gaps = {n: int(c.min()) < 0 for n, c in self.codes.items()}

    def __repr__(self) -> str:
        gaps = f", {self.num_missing_cells} missing cells" if self.num_missing_cells else ""
        return (f"DataTable({self.num_rows} rows, {len(self.nodes)} columns{gaps}: "
                f"{short_list(self.nodes, 8)})")

    @property
    def cards(self) -> dict[str, int]:
        return {n: len(s) for n, s in self.states.items()}

    @property
    def num_missing_cells(self) -> int:
        return sum(int((self.codes[n] < 0).sum()) for n, gap in self._gaps.items() if gap)

    def has_missing(self, node: str | None = None) -> bool:
        """Whether ``node``'s column (or any column) has a missing cell."""
        return any(self._gaps.values()) if node is None else self._gaps[node]

    def require_complete(self, what: str) -> None:
        """Raise a ValueError naming the first column with missing cells (for methods needing whole rows)."""
        for n, gap in self._gaps.items():
            if gap:
                gone = self.codes[n] < 0
                raise ValueError(f"{what} needs complete rows, but data column {n!r} has {int(gone.sum())} "
                                 f"missing cell(s) (first in row {int(np.argmax(gone))}); drop the rows with "
                                 "gaps (e.g. df.dropna()) or fit tables by EM with bn.fit")

    def counts(self, node: str, parents) -> torch.Tensor:
        """Counts N[parent config, state] over the rows where the family is observed, float64
        ``(*parent_cards, card)``."""
        return torch.from_numpy(self.count_array(node, parents))

    def count_array(self, node: str, parents) -> np.ndarray:
        """``counts`` as a NumPy float64 array (no torch call: searches count thousands of families)."""
        family = [*parents, node]
        cards = [len(self.states[p]) for p in family]
        cols = [self.codes[p] for p in family]
        flat = cols[0]
        for col, c in zip(cols[1:], cards[1:]):  # one new array, then in place
            flat = np.multiply(flat, c, dtype=np.intp) if flat is cols[0] else np.multiply(flat, c, out=flat)
            flat += col  # (N,)
        gaps = [col for p, col in zip(family, cols) if self._gaps[p]]
        if gaps:
            seen = gaps[0] >= 0
            for col in gaps[1:]:
                seen &= col >= 0
            flat = flat[seen]
        return np.bincount(flat, minlength=math.prod(cards)).astype(np.float64).reshape(cards)


class _Int64Columns(Mapping):
    """``DataTable.columns``: each column's codes as an int64 tensor (N,), converted on first access."""

    def __init__(self, codes: dict[str, np.ndarray]) -> None:
        self._codes, self._cache = codes, {}

    def __getitem__(self, n: str) -> torch.Tensor:
        t = self._cache.get(n)
        if t is None:
            t = self._cache[n] = torch.from_numpy(self._codes[n].astype(np.int64, copy=False))
        return t

    def __iter__(self):
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)


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


def encode_column(n: str, col, states, allow_missing: bool) -> tuple[np.ndarray, list]:
    """A column's codes (N,), a NumPy integer array (-1 where missing), and its states (given, or read off
    the column). A pandas category column keeps its compact codes: the encoder reads each category once and
    one gather maps the column."""
    col = _numeric(n, col, allow_missing)
    if states is None:
        states, codes = infer_states(n, col, missing=allow_missing)
        if not states:
            raise ValueError(f"data column {n!r} has no observed value, so its states are unknown; give "
                             "them (states=...) or leave the column out")
        return codes.cpu().numpy(), check_states(states, f"states of {n!r}")
    states = check_states(states, f"states of {n!r}")
    encoder = StateEncoder({n: states})
    if _is_category(col):
        return _category_codes(encoder, n, col, allow_missing), states
    return encoder.column(n, col, what="data column", missing=allow_missing).cpu().numpy(), states


def _is_category(col) -> bool:
    """A pandas Series of category dtype (its ``.array`` is a ``pandas.Categorical``)."""
    return type(getattr(col, "dtype", None)).__name__ == "CategoricalDtype" and hasattr(col, "array")


def _category_codes(encoder: StateEncoder, n: str, col, allow_missing: bool) -> np.ndarray:
    """The codes of a category column: its categories through the encoder, then one gather of its
    compact codes (no int64 copy of the column)."""
    cat = col.array  # the Categorical itself: no Series made on the way
    try:
        lut = encoder.column(n, list(cat.categories), what="data column").numpy()  # (K,) per category
    except (ValueError, TypeError):  # a category that is no state: fine if no row uses it
        cat = cat.remove_unused_categories()
        try:
            lut = encoder.column(n, list(cat.categories), what="data column").numpy()
        except (ValueError, TypeError):  # used: the encoder's message names the row
            return encoder.column(n, col.astype(object), what="data column", missing=allow_missing).numpy()
    codes = cat.codes  # (N,) int8/int16 (a read-only view), -1 where missing
    if not allow_missing and len(codes) and int(codes.min()) < 0:
        raise ValueError(f"data column {n!r} has missing values (first in row {int(np.argmax(codes < 0))}); "
                         "every row needs a state here")
    if np.array_equal(lut, np.arange(len(lut))):
        return codes  # categories in state order: the codes as they are
    dtype = np.int8 if len(encoder.states[n]) < 127 else np.int32
    lut = np.append(lut, -1).astype(dtype)  # index -1 (missing) picks the appended -1
    return lut[codes]


def _numeric(n: str, col, allow_missing: bool):
    """Where gaps are allowed (``bn.fit``): float columns of whole numbers (NumPy or pandas, NaN for gaps)
    and pandas' nullable integer columns as int64 arrays, -1 where a cell is missing; any other column
    unchanged. A fractional value is a TypeError naming the column and the row."""
    dtype = getattr(col, "dtype", None)
    if not allow_missing or isinstance(col, torch.Tensor) or getattr(dtype, "kind", "") not in list("fiu"):
        return col  # complete data keeps the encoder's rule: floats are refused
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
