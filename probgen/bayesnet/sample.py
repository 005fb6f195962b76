"""Forward sampling and log-densities of complete rows, vectorised over rows.

Both index each node's table by a flat parent configuration, ``sum_i value(parent_i) * stride_i``
(first parent slowest, as in the table's C order), computed for all rows at once.

Sampling inverts the cumulative distribution of every row of a node's table in one
``torch.searchsorted`` call: the cumulative sums of row ``r`` are shifted by ``r`` and concatenated, so
row ``r`` occupies ``[r, r + 1]`` of one sorted array and a draw ``r + u`` (``u ~ U[0, 1)``) lands in
that row's segment (the classic alias-free inverse-CDF method with the row index as integer part).
"""

from __future__ import annotations

import numpy as np
import torch


def _columns(rows) -> dict:
    if hasattr(rows, "columns") and hasattr(rows, "to_numpy"):  # a pandas DataFrame
        return {str(c): rows[c].to_numpy() for c in rows.columns}
    if not isinstance(rows, dict):
        raise TypeError(f"rows must be a dict node -> column or a pandas DataFrame, "
                        f"got {type(rows).__name__}")
    return rows


def _encode_column(bn, n: str, col) -> torch.Tensor:
    """State indices (N,) int64 of one column: a tensor holds indices; anything else names or indices."""
    card = bn.card(n)
    if isinstance(col, torch.Tensor):
        if col.is_floating_point() or col.is_complex() or col.dtype == torch.bool:
            raise TypeError(f"column {n!r}: a tensor of state indices must have an integer dtype, "
                            f"got {col.dtype}")
        out = col.reshape(-1).to(torch.int64)
    else:
        arr = np.asarray(col, dtype=object if not isinstance(col, np.ndarray) else None).reshape(-1)
        values, inverse = np.unique(arr, return_inverse=True) if arr.size else (arr, arr.astype(np.int64))
        codes = np.array([bn.state_index(n, v) for v in values.tolist()], dtype=np.int64)
        return torch.from_numpy(codes[inverse.reshape(-1)] if arr.size else codes)
    if out.numel() and (out.min() < 0 or out.max() >= card):
        bad = out[(out < 0) | (out >= card)][0].item()
        raise ValueError(f"column {n!r}: state index {bad} is out of range for {card} states {bn.states(n)}")
    return out


def encode_rows(bn, rows, complete: bool = False) -> dict[str, torch.Tensor]:
    """dict node -> int64 tensor (N,) of state indices; see :meth:`BayesNet.encode_rows`."""
    cols = _columns(rows)
    out, length = {}, None
    for n, col in cols.items():
        if n not in bn.cards:
            raise ValueError(f"unknown node {n!r} in rows; the network's nodes are {bn.nodes[:20]}")
        out[n] = _encode_column(bn, n, col)
        if length is not None and len(out[n]) != length[1]:
            raise ValueError(f"columns have different lengths: {length[0]!r} has {length[1]} rows, {n!r} has "
                             f"{len(out[n])}")
        length = length or (n, len(out[n]))
    if complete:
        missing = [n for n in bn.nodes if n not in out]
        if missing:
            raise ValueError(f"rows must give every node; missing {missing}")
    return out


def _flat_tables(bn) -> list:
    """Per node in topological order: (node, parents, strides, card, flat (rows, card) table); cached."""
    if "flat" not in bn._cache:
        tables = []
        for n in bn.nodes:
            cpt = bn.cpt(n)  # (*parent_cards, card)
            cards = list(cpt.shape[:-1])
            strides = [int(np.prod(cards[i + 1:])) for i in range(len(cards))]
            tables.append((n, bn.parents(n), strides, bn.card(n), cpt.reshape(-1, bn.card(n))))
        bn._cache["flat"] = tables
    return bn._cache["flat"]


def _cdf_table(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shifted cumulative sums of a (R, C) table, flattened to (R * C,), and each row's last positive state.

    Entry (r, k) holds ``r + sum_{j <= k} p[r, j]``; where no mass follows state k it is exactly ``r + 1``,
    so a draw in ``[r, r + 1)`` never selects a zero-probability state at the end of a row.
    """
    R, C = probs.shape
    cdf = probs.cumsum(-1)  # (R, C)
    tail = probs.flip(-1).cumsum(-1).flip(-1)  # mass from state k to the end
    done = torch.cat([tail[:, 1:], torch.zeros(R, 1, dtype=probs.dtype)], -1) <= 0  # (R, C)
    cdf = torch.where(done, torch.ones_like(cdf), cdf / cdf[:, -1:])
    offsets = torch.arange(R, dtype=torch.float64).unsqueeze(-1)
    last = (C - 1 - (probs > 0).flip(-1).int().argmax(-1)).to(torch.int64)  # (R,)
    return (cdf + offsets).reshape(-1), last


def _sampling_tables(bn) -> list:
    if "cdf" not in bn._cache:
        bn._cache["cdf"] = [(n, ps, st, c, *_cdf_table(t)) for n, ps, st, c, t in _flat_tables(bn)]
    return bn._cache["cdf"]


def _flat_index(values: dict, parents: list, strides: list, n: int) -> torch.Tensor:
    flat = torch.zeros(n, dtype=torch.int64)
    for p, s in zip(parents, strides):
        flat += values[p] * s if s != 1 else values[p]
    return flat  # (n,)


def forward_sample(bn, num_samples: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Ancestral samples: dict node -> int64 tensor (num_samples,) of state indices."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer) or num_samples < 0:
        raise ValueError(f"`num_samples` must be a non-negative int, got {num_samples!r}")
    n = int(num_samples)
    out: dict[str, torch.Tensor] = {}
    for node, parents, strides, card, cdf, last in _sampling_tables(bn):
        flat = _flat_index(out, parents, strides, n)  # (n,)
        key = torch.rand(n, dtype=torch.float64, generator=generator)
        key += flat
        local = torch.searchsorted(cdf, key, right=True) - flat * card  # (n,)
        over = local >= card  # only when r + u rounded up to r + 1 (u within an ulp of 1)
        if over.any():
            local[over] = last[flat[over]]
        out[node] = local
    return out


def log_prob(bn, rows) -> torch.Tensor:
    """log P(row) of complete rows: the sum over nodes of the log CPT entries, float64 (N,)."""
    values = encode_rows(bn, rows, complete=True)
    n = len(next(iter(values.values())))
    if "log" not in bn._cache:
        bn._cache["log"] = [t.log().reshape(-1) for *_, t in _flat_tables(bn)]
    total = torch.zeros(n, dtype=torch.float64)
    for (node, parents, strides, card, _), logt in zip(_flat_tables(bn), bn._cache["log"]):
        flat = _flat_index(values, parents, strides, n)
        total += logt[flat * card + values[node]]
    return total
