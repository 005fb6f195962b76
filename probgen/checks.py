"""One set of input checks for every family: each bad value becomes one ``ValueError``/``TypeError`` that
names the argument, echoes the value and says what would fix it.

Scalars: :func:`check_int`, :func:`check_float`, :func:`check_probability`, :func:`check_bool`,
:func:`check_choice`, :func:`check_device_name`; tuples of ints (shapes, widths): :func:`check_ints`.
Conventions: :func:`check_num_classes` (``None`` means unconditional everywhere; 0 is refused).
Configs: :func:`config_from_dict` builds a dataclass from a dict and refuses unknown keys with a
close-match hint (nanoGPT's ``configurator.py`` habit).

This module imports no torch, so configs and the CLI can use it cheaply.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from probgen.errors import ProbgenError

T = TypeVar("T")


class ArgumentTypeError(ProbgenError, TypeError):
    """An argument of the wrong type; both ``except ValueError`` and ``except TypeError`` catch it."""


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (either bound optional); else a ValueError naming ``name``.

    Booleans are refused (``True`` is not a count); NumPy integers are accepted.
    """
    if not _is_int(value):
        raise ArgumentTypeError(f"`{name}` must be an int{_range_text(low, high)}, got {value!r} "
                        f"({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"`{name}` must be an int{_range_text(low, high)}, got {v!r}")
    return v


def check_ints(name: str, values: Any, low: int | None = None, *, length: int | None = None,
               empty_ok: bool = False) -> tuple[int, ...]:
    """``values`` (a tuple or list, e.g. layer widths or an image shape) as a tuple of ints >= ``low``, of
    ``length`` entries when given, non-empty unless ``empty_ok``; else a ValueError naming ``name``."""
    n = len(values) if isinstance(values, tuple | list) else -1
    ok = n >= (0 if empty_ok else 1) and (length is None or n == length) and all(
        _is_int(v) and (low is None or v >= low) for v in values)
    if not ok:
        count = f"{length}" if length is not None else ("a tuple of" if empty_ok else "a non-empty tuple of")
        raise ValueError(f"`{name}` must be {count} ints{_range_text(low, None)}, got {values!r}")
    return tuple(int(v) for v in values)


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in the given range (open or closed ends); else a ValueError.

    ``check_float("lr", lr, 0, low_open=True)`` accepts any finite ``lr > 0``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    ok = math.isfinite(v)
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = f" in {lo or '(-inf'}, {hi or 'inf)'}" if (low is not None or high is not None) else ""
        raise ValueError(f"`{name}` must be a finite number{where}, got {value!r}")
    return v


def check_probability(name: str, value: Any) -> float:
    """A probability in [0, 1]."""
    return check_float(name, value, 0.0, 1.0)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a ``bool``; anything else (a string such as ``"false"``, 0 or 1) is refused, since it
    would silently read as true or false."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":  # numpy.bool_ too
        raise ArgumentTypeError(f"`{name}` must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device_name(name: str, value: Any) -> str:
    """A device name: ``"auto"``, ``"cpu"``, ``"mps"``, ``"cuda"`` or ``"cuda:N"``. Whether that device exists
    is checked where it is used (``probgen.device.get_device``)."""
    if not isinstance(value, str) or not _DEVICE.match(value):
        raise ValueError(f"`{name}`={value!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return value


def check_data_name(name: str, value: Any) -> str:
    """A data set name (a str such as ``"mnist-5k"``, or a path to an ``.npz`` file); whether it names a
    data set is checked when the data is loaded (``probgen.data.load_dataset``)."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"`{name}` must be a data set name such as 'mnist-5k', got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` is one of ``choices``; else a ValueError listing them (and the closest one)."""
    choices = list(choices)
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"`{name}`={value!r} is not one of {choices}{hint}")
    return value


def check_num_classes(value: Any, name: str = "num_classes") -> int | None:
    """``None`` (unconditional) or an int >= 1 (a class-conditional model).

    ``0`` is refused with a message saying that ``None`` means unconditional in probgen.
    """
    if value is None:
        return None
    if _is_int(value) and int(value) == 0:
        raise ValueError(f"`{name}`=0: in probgen an unconditional model has `{name}`=None; pass None "
                         "(or K >= 1 classes for a class-conditional model)")
    return check_int(name, value, 1)


def config_from_dict(cls: type[T], values: dict[str, Any] | None) -> T:
    """Build the dataclass ``cls`` from ``values``; an unknown key raises a ValueError naming it and the
    closest known key, and a non-dict is refused."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ArgumentTypeError(f"a {cls.__name__} must be built from a dict of its fields, got "
                        f"{type(values).__name__}")
    check_keys(cls, values)
    return cls(**values)


def check_keys(cls: type, values: dict[str, Any]) -> None:
    """Refuse keys of ``values`` that are not fields of the dataclass ``cls`` (with a close-match hint)."""
    known = [f.name for f in dataclasses.fields(cls)]
    for k in values:
        if k not in known:
            close = difflib.get_close_matches(str(k), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {known}"
            raise ValueError(f"unknown {cls.__name__} key {k!r}{hint}")


def check_input_file(name: str, path: str | os.PathLike) -> Path:
    """``path`` as an existing file to read; else a ValueError naming ``name`` (an argument, or a command
    line option such as ``--data``)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"`{name}` {str(p)!r} is a folder; give a file")
    if not p.is_file():
        raise ValueError(f"`{name}` {str(p)!r}: no such file")
    return p


def check_output_file(name: str, path: str | os.PathLike) -> Path:
    """``path`` as a file to write, checked before any work: not a folder, and no file where one of its
    folders should be; its missing folders are created. Else a ValueError naming ``name``."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"`{name}` {str(p)!r} is a folder; give a file name in it, e.g. {str(p / 'out')!r}")
    for folder in p.parents:
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"`{name}` {str(p)!r}: {str(folder)!r} is a file, not a folder")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"`{name}` {str(p)!r}: cannot create its folder {str(p.parent)!r} ({e.strerror})") \
            from None
    return p


def check_output_folder(name: str, path: str | os.PathLike) -> Path:
    """``path`` as a folder to write into (a run folder), checked before any work: not a file, no file where
    one of its folders should be, and the nearest existing folder writable. Nothing is created (the
    caller creates it when it writes). Else a ValueError naming ``name``."""
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError(f"`{name}` must be a folder path (a str or a pathlib.Path), got "
                                f"{type(path).__name__}")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"`{name}` {str(p)!r} is a file, not a folder; give a folder (it is created if "
                         "missing)")
    existing = p
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"`{name}` {str(p)!r} cannot be created: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"`{name}` {str(p)!r} cannot be written: {str(existing)!r} is not writable")
    return p


def check_fresh_run(name: str, path: str | os.PathLike, *, resume: bool, overwrite: bool) -> None:
    """Refuse to start a new run in a folder that holds an earlier run's checkpoints, unless the caller asked
    to continue it (``resume``) or to replace it (``overwrite``): a training command never deletes a saved
    run by accident. Else a ValueError naming ``name`` and both ways on."""
    ckpts = Path(path) / "checkpoints"
    if resume or overwrite or not ckpts.is_dir():
        return
    found = sorted(p.name for p in ckpts.glob("*.pt"))
    if found:
        raise ValueError(f"`{name}` {str(path)!r} already holds a run (checkpoints/{found[0]}); "
                         "add --resume to continue it, --overwrite to replace it, or give another folder")


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""
