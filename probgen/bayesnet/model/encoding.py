"""The state encoder: the one place where states given by a user, and columns of data, become state codes.

A *state code* is a node's state index, ``0 .. card - 1``, the form every engine works in. Evidence of
``posterior``, ``probability``, ``map`` and ``approximate_posterior``, the states of ``intervene`` and
``state_index``, the rows of ``log_prob`` and of the Pyro program, the data of ``fit_parameters``,
``score``, ``hill_climb`` and ``learn_network``, and the command line's ``NODE=STATE`` words all go
through ``StateEncoder``, under one set of rules:

1. **A value names a state when their texts agree**, ``str(value) == str(state)``. For states
   ``["0", "1"]`` or ``[0, 1]`` the values ``"1"``, ``1`` and ``np.int64(1)`` all mean state index 1.
   (So state names must differ as text: ``TabularCPD`` refuses ``[1, "1"]``.)
2. **A value that names no state but is a non-negative integer ``k``** (an int, a NumPy integer, or text
   of decimal digits such as ``"2"``) **is the index ``k``**, if ``k < card``. Names come first: for
   states ``[1, 2]`` the value ``1`` is the state named 1 (index 0), while ``0`` is index 0.
3. **Torch tensors hold codes already** (``bn.sample`` returns them): an integer tensor, 0-d or one
   value per row, is read as indices, without looking at names.
4. **Booleans are refused everywhere** (``TypeError``), as Python, NumPy or torch values or columns:
   ``True`` could mean a state named ``"True"`` or index 1. Floats and other types are refused too.
5. **Missing entries**: in per-row evidence, ``-1``, ``None``, NaN and pandas' NA leave a node unobserved
   in that row (code ``-1``); in the data of ``bn.fit`` they are missing cells (``missing=True``). Data
   for structure learning, rows for ``log_prob`` and observations of the Pyro program must be complete.
6. An unknown node, an unknown state or an index out of range is a ``ValueError`` that names the node,
   echoes the value and lists the valid states.

Columns (lists, NumPy arrays, pandas Series, tensors) are encoded as arrays: each distinct value is read
once by the rules above and the codes are gathered with one index operation (pandas' categorical codes or
``factorize`` for a pandas column, ``numpy.unique`` otherwise; integer columns whose values are their own
codes skip even that). The encoder imports no pandas: a pandas column brings pandas with it.
"""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Mapping, Sequence

import numpy as np
import torch

__all__ = ["StateEncoder", "infer_states", "table_columns", "unknown_node", "short_list"]


class StateEncoder:
    """State codes for the nodes of one network (or one data table), by the rules of the module docstring.

    Args:
        states: node -> its state names (str or int, distinct as text), in code order.

    Attributes:
        states: node -> list of state names.
    """

    def __init__(self, states: Mapping[str, Sequence]) -> None:
        self.states: dict[str, list] = {n: list(s) for n, s in states.items()}
        self._lookup = {n: {str(s): i for i, s in enumerate(ss)} for n, ss in self.states.items()}
        # whether every integer k < card means code k (no state is named by another integer's text)
        self._plain: dict[str, bool] = {}  # filled by _is_plain when first asked (10^4 nodes are common)

    def _is_plain(self, node: str) -> bool:
        plain = self._plain.get(node)
        if plain is None:
            look = self._lookup[node]
            plain = self._plain[node] = all(look.get(str(k), k) == k for k in range(len(look)))
        return plain

    def __repr__(self) -> str:
        return f"StateEncoder({len(self.states)} nodes: {short_list(list(self.states), 8)})"

    def check_node(self, node, what: str = "") -> str:
        """``node`` if the encoder knows it; else a ValueError suggesting close matches."""
        try:
            if node in self._lookup:
                return node
        except TypeError:  # unhashable
            pass
        raise unknown_node(node, list(self.states), what)

    # ------------------------------------------------------------------------------------------ one value
    def code(self, node: str, value, what: str = "node") -> int:
        """The code of one value (a state name, an index, or a 0-d integer tensor) of ``node``.

        ``what`` starts the error messages, e.g. ``"evidence on"`` gives "evidence on 'X': unknown state".
        """
        if type(value) is str and type(node) is str:  # the common case, first
            lookup = self._lookup.get(node)
            i = None if lookup is None else lookup.get(value)
            if i is not None:
                return i
        lookup = self._lookup[self.check_node(node, _verb(what))]
        if isinstance(value, torch.Tensor):
            return self._tensor_code(node, value, what)
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool):
            raise TypeError(f"{what} {node!r}: {value!r} is a boolean, which could be a state name or an "
                            f"index; give one of the states {self._some(node)} or its index")
        if isinstance(value, int | str):
            i = lookup.get(str(value))
            if i is not None:
                return i
        if isinstance(value, int):
            if 0 <= value < len(lookup):
                return value
            raise self._out_of_range(node, value, what)
        if isinstance(value, str):
            if value.isascii() and value.isdigit():
                k = int(value)
                if k < len(lookup):
                    return k
                raise self._out_of_range(node, k, what)
            raise ValueError(f"{what} {node!r}: unknown state {value!r}; its states are {self._some(node)} "
                             f"(or an index 0..{len(lookup) - 1})")
        kind = "a float" if isinstance(value, float) else f"of type {type(value).__name__}"
        raise TypeError(f"{what} {node!r}: {value!r} is {kind}, not a state; give one of the states "
                        f"{self._some(node)} or an integer index")

    def _tensor_code(self, node: str, value: torch.Tensor, what: str) -> int:
        if value.numel() != 1 or value.dtype == torch.bool or value.is_floating_point() or value.is_complex():
            raise TypeError(f"{what} {node!r}: a tensor of dtype {value.dtype} and shape "
                            f"{tuple(value.shape)} is not one state index; give a 0-d integer tensor")
        k = int(value.item())
        if not 0 <= k < len(self._lookup[node]):
            raise self._out_of_range(node, k, what)
        return k

    def _out_of_range(self, node: str, k: int, what: str) -> ValueError:
        card = len(self._lookup[node])
        return ValueError(f"{what} {node!r}: state index {k} is out of range; it has {card} states "
                          f"(0..{card - 1}: {self._some(node)})")

    def _some(self, node: str) -> str:
        return short_list(self.states[node], 12)

    # ---------------------------------------------------------------------------------------- columns
    def column(self, node: str, column, *, what: str = "column", missing: bool = False) -> torch.Tensor:
        """The codes of a column of values, int64 ``(N,)`` (on the tensor's device for a tensor).

        Args:
            column: a list or tuple, a NumPy array, a pandas Series or Categorical, or an integer tensor of
                codes, one entry per row.
            missing: allow unobserved entries (``-1``, ``None``, NaN, pandas' NA), coded -1.
        """
        self.check_node(node, _verb(what))
        card = len(self._lookup[node])
        if isinstance(column, torch.Tensor):
            return _code_tensor(node, column, what, card, missing)
        arr = _as_array(column, node, what)
        if arr is not None and arr.dtype.kind in "iu" and self._is_plain(node) and arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo >= (-1 if missing else 0) and hi < card:  # the values are their own codes
                return torch.from_numpy(arr.astype(np.int64, copy=not arr.flags.writeable))
        values, inverse = _distinct(column if arr is None else arr, node, what, prepared=arr is not None)
        codes = np.empty(len(values), dtype=np.int64)
        for j, v in enumerate(values):
            try:
                codes[j] = self._entry(node, v, what, missing)
            except (ValueError, TypeError) as e:
                row = int(np.argmax(inverse == j))
                raise type(e)(f"{e} (row {row})") from None
        if np.array_equal(codes, np.arange(len(codes))):  # e.g. categories in state order: no gather
            return torch.from_numpy(inverse)
        return torch.from_numpy(codes[inverse])

    def _entry(self, node: str, value, what: str, missing: bool) -> int:
        if _is_missing(value) or (missing and value == -1 and isinstance(value, int | np.integer)
                                  and not isinstance(value, bool | np.bool_)):
            if missing:
                return -1
            raise ValueError(f"{what} {node!r} has missing values ({value!r}); every row needs a state here")
        return self.code(node, value, what)

    def rows(self, rows, *, what: str = "column", complete: bool = False) -> dict[str, torch.Tensor]:
        """Codes of a table of rows: dict node -> int64 ``(N,)``.

        ``rows`` is a dict node -> column or a pandas DataFrame (one column per node); ``complete=True``
        requires a column for every node. Columns must have one length.
        """
        out: dict[str, torch.Tensor] = {}
        first = None
        for n, col in table_columns(rows).items():
            out[n] = self.column(n, col, what=what)
            if first is not None and len(out[n]) != len(out[first]):
                raise ValueError(f"columns have different lengths: {first!r} has {len(out[first])} rows, "
                                 f"{n!r} has {len(out[n])}")
            first = first or n
        if complete:
            absent = [n for n in self.states if n not in out]
            if absent:
                raise ValueError(f"rows must give every node; missing {short_list(absent)}")
        return out


# ------------------------------------------------------------------------------------- data, no states
def infer_states(node: str, column, what: str = "data column", *, missing: bool = False
                 ) -> tuple[list, torch.Tensor]:
    """States read off a column of data, and its codes: ``(states, int64 (N,))``.

    A tensor holds codes, so its states are ``range(max + 1)``; any other column's states are its
    distinct values, sorted (ints before strings). Booleans and floats are refused. Missing values
    (``None``, NaN, pandas' NA, and ``-1`` in an integer column or tensor) are refused, or with
    ``missing=True`` coded -1 and left out of the states (a column with no observed value then has
    no states: ``[]``).
    """
    if isinstance(column, torch.Tensor):
        codes = _code_tensor(node, column, what, None, missing=missing)
        top = int(codes.max()) if codes.numel() else 0
        return (list(range(top + 1)) if top >= 0 else []), codes
    values, inverse = _distinct(column, node, what)
    gone = [_is_missing(v) or (missing and _is_minus_one(v)) for v in values] if missing else []
    kept = [j for j in range(len(values)) if not (gone and gone[j])]
    named = {j: _state_value(node, values[j], what) for j in kept}
    order = sorted(kept, key=lambda j: (str(type(named[j])), named[j]))
    rank = np.full(len(values), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return [named[j] for j in order], torch.from_numpy(rank[inverse])


def _is_minus_one(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) and v == -1


def _state_value(node: str, value, what: str):
    """``value`` as a state name (a Python str or int); missing values, booleans and floats are refused."""
    if _is_missing(value):
        raise ValueError(f"{what} {node!r} has missing values ({value!r}); learning needs complete rows")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | str):
        kind = "a boolean" if isinstance(value, bool) else f"of type {type(value).__name__}"
        raise TypeError(f"{what} {node!r}: {value!r} is {kind}; state names are str or int")
    return value


def table_columns(rows) -> dict:
    """dict node -> column of a dict or a pandas DataFrame (whose columns stay pandas Series)."""
    if hasattr(rows, "columns") and hasattr(rows, "iloc"):  # a pandas DataFrame
        return {str(c): rows[c] for c in rows.columns}
    if not isinstance(rows, Mapping):
        raise TypeError("rows must be a dict node -> column or a pandas DataFrame, got "
                        f"{type(rows).__name__}")
    return dict(rows)


def unknown_node(name, nodes: list, what: str = "") -> ValueError:
    """The ValueError for an unknown node: close matches if any, else the nodes."""
    close = difflib.get_close_matches(str(name), [str(n) for n in nodes], n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
        f"; the network's nodes are {short_list(nodes, 12)}"
    return ValueError(f"{what}unknown node {name!r}{hint}")


def _verb(what: str) -> str:
    """The start of an unknown-node message: "evidence on " for "evidence on", else nothing."""
    return what + " " if what.endswith(" on") else ""


def short_list(items, k: int = 20) -> str:
    """``repr`` of a list, cut after ``k`` items with the total count."""
    items = list(items)
    return repr(items) if len(items) <= k else repr(items[:k])[:-1] + f", ... ({len(items)} in all)]"


# ----------------------------------------------------------------------------------------- helpers
def _code_tensor(node: str, col: torch.Tensor, what: str, card: int | None, missing: bool) -> torch.Tensor:
    """A tensor column of codes, checked (integer dtype, one axis, ``0 <= code < card``) as int64 (N,)."""
    if col.dtype == torch.bool or col.is_floating_point() or col.is_complex():
        raise TypeError(f"{what} {node!r}: a tensor of dtype {col.dtype}; give int64 state indices (an "
                        "integer dtype" + (", -1 = unobserved)" if missing else ")"))
    if col.dim() != 1:
        raise ValueError(f"{what} {node!r}: a tensor of shape {tuple(col.shape)}; give one value per row, "
                         "shape (N,)")
    col = col.to(torch.int64)
    bad = col < (-1 if missing else 0)
    if card is not None:
        bad |= col >= card
    if bool(bad.any()):
        row = int(bad.nonzero()[0, 0])
        top = f"0..{card - 1}" if card is not None else "0 or more"
        raise ValueError(f"{what} {node!r}: row {row} has state index {int(col[row])}, outside {top}"
                         + (" (-1 means unobserved)" if missing else ""))
    return col


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v)) or \
        type(v).__name__ in ("NAType", "NaTType")


def _as_array(column, node: str, what: str) -> np.ndarray | None:
    """A NumPy array of the column (None for a pandas column, which keeps its own machinery)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(column, pd.Series | pd.Index | pd.Categorical):
        if isinstance(column.dtype, pd.CategoricalDtype):
            return None
        nullable = pd.api.types.is_extension_array_dtype(column.dtype)  # e.g. Int64, string: pd.NA inside
        column = column.to_numpy(dtype=object, na_value=None) if nullable else column.to_numpy()
    if isinstance(column, np.ndarray):
        arr = column
    elif isinstance(column, str | bytes | Mapping | set | frozenset) or not hasattr(column, "__iter__"):
        raise TypeError(f"{what} {node!r}: a column must be a list, array, pandas Series or tensor, got "
                        f"{type(column).__name__}")
    else:
        values = list(column)  # an object array: NumPy would coerce [1, "a", True] to one type
        arr = np.fromiter(values, dtype=object, count=len(values))
    if arr.ndim != 1:
        raise ValueError(f"{what} {node!r}: an array of shape {arr.shape}; give one value per row, "
                         "shape (N,)")
    if arr.dtype.kind == "O":
        arr = _narrow(arr)
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{what} {node!r}: a column of booleans, which could be state names or indices; "
                        "give state names or integer indices (e.g. col.astype(int))")
    if kind not in "iuUSO":  # floats, complex numbers, dates, ...
        nan = " with missing values (NaN)" if kind == "f" and np.isnan(arr).any() else ""
        raise TypeError(f"{what} {node!r}: an array of dtype {arr.dtype}{nan}; give state names or integer "
                        "indices (None or -1 for missing entries where they are allowed)")
    return arr


def _distinct(column, node: str, what: str, prepared: bool = False) -> tuple[list, np.ndarray]:
    """``(distinct values, inverse (N,) int64)`` of a column, ``values[inverse]`` being the column.

    ``prepared``: the column is already an array checked by ``_as_array``.
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(column)
        values, codes = list(cat.categories), cat.codes.astype(np.int64)
        if (codes < 0).any():  # NaN: one more distinct value, missing
            values.append(None)
            codes = np.where(codes < 0, len(values) - 1, codes)
        return values, codes
    arr = column if prepared else _as_array(column, node, what)
    if arr.dtype.kind == "O":
        if pd is not None and pd.api.types.infer_dtype(arr, skipna=False) == "string":
            inverse, uniques = pd.factorize(arr)  # hashes the str objects as they are
            return list(uniques), inverse.astype(np.int64)
        return _distinct_objects(arr, node, what)
    if arr.dtype.kind in "US" and pd is not None:  # hashing beats sorting for text
        inverse, uniques = pd.factorize(arr)
        return list(uniques), inverse.astype(np.int64)
    values, inverse = np.unique(arr, return_inverse=True)
    return values.tolist(), inverse.reshape(-1).astype(np.int64)


def _narrow(arr: np.ndarray) -> np.ndarray:
    """An object array of only ints as int64, or (without pandas to hash them) of only str as str."""
    pd = sys.modules.get("pandas")
    if pd is not None:  # pandas' type inference runs in C
        ints = pd.api.types.infer_dtype(arr, skipna=False) == "integer"
    else:
        types = set(map(type, arr.tolist()))
        if types == {str}:
            return arr.astype(str)
        ints = bool(types) and all(issubclass(t, int | np.integer) and not issubclass(t, bool | np.bool_)
                                   for t in types)
    try:
        return arr.astype(np.int64) if ints else arr
    except OverflowError:  # ints beyond int64: read one by one
        return arr


def _distinct_objects(arr: np.ndarray, node: str, what: str) -> tuple[list, np.ndarray]:
    """Distinct values of a mixed object column, type-strict (``True`` is not ``1``), missing as one."""
    seen: dict = {}
    values: list = []
    inverse = np.empty(len(arr), dtype=np.int64)
    for i, v in enumerate(arr.tolist()):
        key = ("missing",) if _is_missing(v) else (type(v), v)
        try:
            j = seen.get(key)
        except TypeError:  # unhashable
            raise TypeError(f"{what} {node!r}: row {i} holds {v!r} ({type(v).__name__}), not a state name or "
                            "index") from None
        if j is None:
            j = seen[key] = len(values)
            values.append(v)
        inverse[i] = j
    return values, inverse
