"""Helpers of the BIF reader's robustness tests: a time bound that cannot hang a test run, a peak-memory
probe, and small generated BIF texts."""

from __future__ import annotations

import contextlib
import signal
import tracemalloc


class TookTooLong(Exception):
    """Raised inside a ``within`` block that ran past its bound."""


@contextlib.contextmanager
def within(seconds: int):
    """Fail with ``TookTooLong`` once the block has run ``seconds`` (SIGALRM; main thread, Linux).

    The bound is generous (tens of times the expected time): it tells linear from quadratic, or a hang,
    and never times a correct parser on a busy machine."""

    def alarm(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def peak_memory():
    """Yields a dict whose ``"peak"`` is, after the block, the most bytes Python and NumPy held at once
    during it (tracemalloc; NumPy reports its array buffers to it)."""
    out = {}
    tracemalloc.start()
    try:
        yield out
    finally:
        out["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def binary_roots(names) -> str:
    """BIF text declaring each name as a binary root (states a, b) with a uniform table."""
    return "".join(f"variable {n} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
                   f"probability ( {n} ) {{ table 0.5, 0.5; }}\n" for n in names)


def child_of(parents, entries: str = "default 0.5 0.5;", name: str = "C") -> str:
    """BIF text of a binary node ``name`` with the given parents and probability entries."""
    return (f"variable {name} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
            f"probability ( {name} | {', '.join(parents)} ) {{ {entries} }}\n")
