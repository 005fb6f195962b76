"""Checkpoints that resume and survive a crash.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts, saved with ``torch.save`` and read
back with ``torch.load(weights_only=True)`` (no pickled code runs on load).

* ``save_checkpoint`` writes to a temporary file ``.<name>.<8 random characters>.tmp`` in the same folder,
  flushes it to disk, then renames it over the target, so a crash mid-write leaves the previous checkpoint
  as it was. Ctrl-C during a save is held back until the save is done (on the main thread), so an
  interrupted run always has a complete ``last.pt``; only a kill (SIGKILL, power loss) can leave a
  temporary behind, which ``remove_stale_temporaries`` deletes (``RunDir`` does so when a run starts).
  The file gets the permissions of any new file (``0o666`` less the umask), not ``tempfile``'s ``0o600``.
* ``load_checkpoint`` turns every way a file can fail to be a checkpoint (missing, a folder, empty,
  truncated, a text or other file, a torch file of another kind) into one ``CheckpointError`` that names
  the file and what is wrong. ``load_weights`` and ``rebuilding`` do the same for what is built from it
  (weights that do not fit the model its config describes, missing entries, a checkpoint of another kind).
"""

from __future__ import annotations

import os
import pickle
import re
import secrets
import signal
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from probgen.errors import CheckpointError

FORMAT_KEY = "probgen_checkpoint"
FORMAT_VERSION = 1
# .<name>.<8 characters>.tmp: save_checkpoint's temporaries (and tempfile.mkstemp's, used before)
TEMP_PATTERN = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")

_ZIP_MAGIC = b"PK\x03\x04"  # the first bytes of a zip archive, hence of every torch.save file
# what a checkpoint holds ("kind") -> how messages name it
KINDS = {"probgen.vae.VAE": "a VAE", "probgen.gan.GAN": "a GAN", "probgen.diffusion.DDPM": "a DDPM",
         "probgen.metrics.DigitClassifier": "a metrics classifier"}


# ------------------------------------------------------------------------------------------------ saving


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically write ``state`` (plus a format marker) to ``path``; returns the path.

    The folder is created if missing. Ctrl-C during the write takes effect once the file is complete.
    """
    if not isinstance(state, dict):
        raise TypeError(f"`state` must be a dict, got {type(state).__name__}")
    path = Path(path)
    _make_folder(path.parent, path)
    with deferred_interrupt():
        fd, tmp = _open_temporary(path)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save({FORMAT_KEY: FORMAT_VERSION, **state}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
    return path


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries that killed ``save_checkpoint`` calls left in ``folder``; returns them.

    Only files named as ``save_checkpoint`` names them (``.<name>.<8 characters>.tmp``) are touched, and
    only in ``folder`` itself. Call it when no other process is saving into that folder (a run's start).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if TEMP_PATTERN.match(p.name) and p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def _make_folder(folder: Path, path: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CheckpointError(f"cannot write checkpoint {str(path)!r}: a file stands where a folder of its "
                              "path should be") from None


def _open_temporary(path: Path) -> tuple[int, Path]:
    """A new file ``.<name>.<random>.tmp`` next to ``path``, opened for writing with the umask's mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {str(path)!r}")


def _fsync_folder(folder: Path) -> None:
    """Flush the rename itself to disk (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise KeyboardInterrupt.

    Only on the main thread and while Python's default handler is installed; otherwise (another thread, a
    handler of the program's own, or inside another ``deferred_interrupt``) a no-op.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# ----------------------------------------------------------------------------------------------- loading


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict:
    """Read a checkpoint written by ``save_checkpoint`` (``weights_only=True``).

    Raises:
        CheckpointError: naming the file and what is wrong: missing, a folder, empty, truncated or damaged,
            not a torch checkpoint (e.g. a text file), holding objects ``weights_only`` refuses, not a
            probgen checkpoint, or of a newer format.
    """
    path = Path(path)
    _check_file(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except MemoryError:
        raise
    except Exception as e:  # torch's unpickler raises KeyError, IndexError, ... on foreign files
        raise CheckpointError(_unreadable(path, e)) from e
    if not isinstance(state, dict) or state.get(FORMAT_KEY) is None:
        raise CheckpointError(
            f"{str(path)!r} is a torch file but not a probgen checkpoint (no {FORMAT_KEY!r} marker)"
        )
    if not isinstance(state[FORMAT_KEY], int) or state[FORMAT_KEY] > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} has checkpoint format {state[FORMAT_KEY]!r}, newer than this probgen reads "
            f"({FORMAT_VERSION}); upgrade probgen"
        )
    return state


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise CheckpointError(f"checkpoint {str(path)!r} is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {str(path)!r} is empty (0 bytes): truncated, e.g. by a save that "
                              "never finished")


def _unreadable(path: Path, error: Exception) -> str:
    """Why torch could not read ``path``, in words."""
    with path.open("rb") as f:
        head = f.read(64)
    if not (head.startswith(_ZIP_MAGIC) or _ZIP_MAGIC.startswith(head)):  # torch.save writes zip archives
        size = path.stat().st_size
        return (f"{str(path)!r} is not a probgen checkpoint: it is {_looks_like(head, size)}, not a torch "
                "zip file")
    if not head.startswith(_ZIP_MAGIC) or not zipfile.is_zipfile(path):  # the central directory is missing
        return (f"{str(path)!r} is truncated or damaged: the start of a torch checkpoint whose end is "
                f"missing or corrupt ({path.stat().st_size} bytes)")
    if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in str(error):
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = f" ({found.group(1)})" if found else ""
        return (f"{str(path)!r} holds Python objects{what} that weights_only loading refuses to run; probgen "
                "checkpoints hold only tensors, numbers, strings, lists and dicts")
    return (f"{str(path)!r} is damaged or not a torch checkpoint: a zip archive that torch cannot read "
            f"({_first_line(error)})")


def _looks_like(head: bytes, size: int) -> str:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\n\r\t" for c in text):
        return f"a text file ({size} bytes, starting {text[:30]!r})"
    return f"a {size}-byte file of another kind"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


# ------------------------------------------------------------------------------------- what it rebuilds


def checkpoint_kind(state: dict) -> str | None:
    """What a checkpoint holds (a key of ``KINDS``): its ``kind`` entry, or for files written before
    probgen stored one, what its entries show; None when unknown."""
    kind = state.get("kind")
    if isinstance(kind, str):
        return kind
    if "spec" in state and "gan" in state:
        return "probgen.gan.GAN"
    if "ddpm_config" in state and "ddpm" in state:
        return "probgen.diffusion.DDPM"
    if "info" in state and "state_dict" in state:
        return "probgen.metrics.DigitClassifier"
    return None


def expect_kind(state: dict, kind: str, source: str = "this checkpoint") -> None:
    """Refuse a checkpoint that does not hold a ``kind`` (e.g. a GAN's given to ``VAE.load``)
    or is no dict."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{source} must be a checkpoint dict, got {type(state).__name__}")
    got = checkpoint_kind(state)
    if got is None:
        keys = ", ".join(repr(k) for k in list(state)[:6] if k != FORMAT_KEY) or "none"
        raise CheckpointError(f"{source} is not a checkpoint of {KINDS.get(kind, kind)}: its entries "
                              f"({keys}) are not those of any probgen model")
    if got != kind:
        what = KINDS.get(got, f"kind {got!r}")
        raise CheckpointError(f"{source} is a probgen checkpoint of {what}, not of {KINDS.get(kind, kind)}")


def load_weights(module: torch.nn.Module, weights: Any, source: str = "this checkpoint") -> None:
    """``module.load_state_dict(weights)``; weights that do not fit (missing, unexpected or differently shaped
    entries) raise a ``CheckpointError`` naming ``source`` and the first few entries at fault."""
    if not isinstance(weights, dict):
        raise CheckpointError(f"{source} holds weights of type {type(weights).__name__}, not a state dict")
    mine = module.state_dict()
    problems = [f"`{k}` has shape {tuple(weights[k].shape)} in the checkpoint but {tuple(v.shape)} in the "
                "model" for k, v in mine.items()
                if isinstance(weights.get(k), torch.Tensor) and weights[k].shape != v.shape]
    missing = [k for k in mine if k not in weights]
    unexpected = [k for k in weights if k not in mine]
    problems += [f"{len(missing)} missing (e.g. `{missing[0]}`)"] if missing else []
    problems += [f"{len(unexpected)} unexpected (e.g. `{unexpected[0]}`)"] if unexpected else []
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise CheckpointError(f"{source} has mismatched weights for the {type(module).__name__} its config "
                              f"describes: {shown}")
    module.load_state_dict(weights)


@contextmanager
def rebuilding(source: str, what: str) -> Iterator[None]:
    """Errors raised while building ``what`` from a checkpoint (``source``, e.g. the file's name) become one
    ``CheckpointError`` naming both: a missing entry, an invalid config, weights that do not fit."""
    try:
        yield
    except CheckpointError as e:
        if source in str(e):
            raise
        detail = re.sub(r"^this checkpoint (is|has) ", r"it \1 ", str(e))
        raise CheckpointError(f"{source} cannot be loaded as {what}: {detail}") from e
    except KeyError as e:
        raise CheckpointError(f"{source} cannot be loaded as {what}: it has no {e.args[0]!r} entry") from e
    except (IndexError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{source} cannot be loaded as {what}: {_load_error(e)}") from e


def _load_error(error: Exception) -> str:
    """The informative lines of torch's ``load_state_dict`` error (or the first line of another)."""
    lines = [ln.strip() for ln in str(error).splitlines()[1:] if ln.strip()]
    if "Error(s) in loading state_dict" in str(error) and lines:
        return "mismatched weights: " + "; ".join(ln[:160] for ln in lines[:3])
    return _first_line(error)


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
