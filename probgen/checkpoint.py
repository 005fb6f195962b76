"""Checkpoints that resume and survive a crash.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts, saved with :func:`torch.save` and
read back with ``torch.load(weights_only=True)`` (no pickled code runs on load). :func:`save_checkpoint`
writes to a temporary file in the same folder, flushes it to disk, then renames it over the target, so a
crash mid-write leaves the previous checkpoint as it was.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from probgen.errors import CheckpointError

FORMAT_KEY = "probgen_checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically write ``state`` (plus a format marker) to ``path``; returns the path."""
    if not isinstance(state, dict):
        raise TypeError(f"`state` must be a dict, got {type(state).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({FORMAT_KEY: FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Raises:
        CheckpointError: the file is missing, truncated, not a torch file, or not a probgen checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"{str(path)!r} is not a readable probgen checkpoint ({first[:200]}); it may be truncated or "
            "another kind of file"
        ) from e
    if not isinstance(state, dict) or state.get(FORMAT_KEY) is None:
        raise CheckpointError(
            f"{str(path)!r} is a torch file but not a probgen checkpoint (no {FORMAT_KEY!r} marker)"
        )
    if state[FORMAT_KEY] > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} has checkpoint format {state[FORMAT_KEY]}, newer than this probgen reads "
            f"({FORMAT_VERSION}); upgrade probgen"
        )
    return state


def param_store_state() -> dict:
    """Pyro's param store as plain tensors: unconstrained values plus constraint names.

    ``pyro.get_param_store().get_state()`` holds constraint objects, which ``weights_only`` loading
    refuses; this keeps only what :func:`load_param_store_state` needs.
    """
    import pyro

    store = pyro.get_param_store()
    params, constraints = {}, {}
    for name in store.keys():
        params[name] = store._params[name].detach().clone()  # unconstrained value
        constraints[name] = _constraint_name(store._constraints[name])
    return {"params": params, "constraints": constraints}


def load_param_store_state(state: dict) -> None:
    """Restore what :func:`param_store_state` captured (into the current param store)."""
    import pyro
    from torch.distributions import transform_to

    store = pyro.get_param_store()
    for name, unconstrained in state["params"].items():
        constraint = _CONSTRAINTS[state["constraints"][name]]
        value = transform_to(constraint)(unconstrained)
        if name in store:
            del store[name]
        store.setdefault(name, value.detach(), constraint)


def _constraint_name(constraint) -> str:
    for name, obj in _CONSTRAINTS.items():
        if constraint is obj or type(constraint) is type(obj) and repr(constraint) == repr(obj):
            return name
    raise CheckpointError(
        f"param store holds a parameter with constraint {constraint!r}, which checkpoints do not support; "
        f"supported: {list(_CONSTRAINTS)}"
    )


def _constraints_table():
    from torch.distributions import constraints as c

    return {
        "real": c.real,
        "positive": c.positive,
        "unit_interval": c.unit_interval,
        "simplex": c.simplex,
        "lower_cholesky": c.lower_cholesky,
        "positive_definite": c.positive_definite,
        "real_vector": c.real_vector,
        "independent_real": c.independent(c.real, 1),
    }


_CONSTRAINTS = _constraints_table()
