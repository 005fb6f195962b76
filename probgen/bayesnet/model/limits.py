"""Size limits shared by the layers: how many table entries probgen allocates before it refuses.

``MAX_TABLE_SIZE`` is one knob with one meaning everywhere: the most entries of one table that probgen
will allocate. The BIF reader (``read_bif(..., max_table_size=...)``) checks every conditional table, and
all of them together, against it before allocating them; the exact engine
(``posterior(..., max_table_size=...)``) checks the largest table of its elimination plan. Both raise an
error that names the table and its size. This module imports nothing heavy.
"""

from __future__ import annotations

import numbers

from probgen.checks import ArgumentTypeError

__all__ = ["MAX_TABLE_SIZE", "check_max_table_size", "check_memory", "format_bytes"]

MAX_TABLE_SIZE = 2**28  # entries (2 GiB in float64)


def check_max_table_size(value) -> float:
    """``value`` checked as a ``max_table_size`` argument: a number >= 1 (``math.inf``: no limit)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`max_table_size` must be a number of table entries, got {value!r} "
                                f"({type(value).__name__})")
    if not value >= 1:  # also NaN
        raise ValueError(f"`max_table_size` must be >= 1 (table entries; math.inf for no limit), "
                         f"got {value!r}")
    return float(value)


def format_bytes(n: float) -> str:
    """``n`` bytes as text with a binary unit: ``format_bytes(2**32)`` is ``'4 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_memory(what: str, need: float) -> None:
    """Refuse work that needs more than the machine's available memory (Linux ``MemAvailable``; nothing is
    checked where it is unknown), with a ValueError naming ``what`` (e.g. "`num_samples`=10000000000000")."""
    available = _available_memory()
    if available is not None and need > available:
        raise ValueError(f"{what} needs about {format_bytes(need)} of memory, more than the "
                         f"{format_bytes(available)} available; ask for less, or in parts")


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
