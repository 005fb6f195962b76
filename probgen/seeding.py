"""Seeding and RNG state capture, so that runs repeat and checkpoints resume bit for bit.

A run seeds everything with its ``seed`` once, before building its model. Where it needs another random
stream (each process of a torchrun job, a multi-process resume, a retry after a rollback), it reseeds with
``derive_seed``, the one formula every trainer uses.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from probgen.checks import check_int


def seed(n: int) -> None:
    """Seed Python's ``random``, NumPy, torch (CPU and CUDA) and Pyro with ``n``."""
    n = check_int("seed", n, 0)
    import pyro  # local: keeps `import probgen` light for the BIF/data paths

    pyro.set_rng_seed(n)  # seeds random, numpy and torch (all CUDA devices included)
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)


def derive_seed(seed: int, *, rank: int = 0, step: int = 0, attempt: int = 0) -> int:
    """The seed of one random stream of a run: process ``rank``, (re)started at ``step``, ``attempt``-th
    retry (after rollbacks). NumPy's ``SeedSequence`` mixes the four numbers, so nearby values give
    unrelated streams and no two of them collide the way sums such as ``seed + 7919 * rank`` can.

    Returns an int in [0, 2**32), suitable for ``seed``.
    """
    return int(np.random.SeedSequence([seed, rank, step, attempt]).generate_state(1)[0])


def get_rng_state() -> dict:
    """Every RNG's state as a dict of tensors and plain lists (loadable with ``weights_only=True``)."""
    np_state = np.random.get_state()
    state = {
        "python": _to_lists(random.getstate()),
        "numpy": {
            "key": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what ``get_rng_state`` captured."""
    random.setstate(_to_tuples(state["python"]))
    n = state["numpy"]
    np.random.set_state(
        ("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_lists(x):
    return [_to_lists(v) for v in x] if isinstance(x, tuple | list) else x


def _to_tuples(x):
    return tuple(_to_tuples(v) for v in x) if isinstance(x, list) else x
