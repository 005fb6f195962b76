"""Run configurations and what may change on resume (imports no torch, so the CLI can use it cheaply).

A run folder holds the configuration it was trained with in ``config.json``. Resuming respects it:
``resolve_run_config`` starts from the saved configuration, lets the options given now override only
the keys the config class lists in ``RESUMABLE`` (the step/epoch budget, evaluation, logging and
checkpoint cadence, the device, ...), and refuses anything else with a message naming each differing key.
It only reads: no folder, no ``config.json`` is written before the configuration has been validated.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from probgen.checks import ArgumentTypeError, check_input_file, check_output_folder, config_from_dict
from probgen.errors import ProbgenError

T = TypeVar("T")


def plain(value: Any) -> Any:
    """``value`` with tuples as lists, recursively: what JSON gives back, so saved and new configs compare."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def config_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as a plain, JSON-ready dict."""
    return plain(dataclasses.asdict(config))


def read_config_file(path: str | Path, what: str = "configuration", option: str = "--config") -> dict:
    """The JSON object in the file ``path`` (e.g. ``--config run.json``); a missing file or a folder
    (``probgen.checks.check_input_file``), an unreadable file, invalid JSON (with the line and column of the
    error) or another JSON value is one ``ProbgenError`` naming ``option`` and the file."""
    path = check_input_file(option, path)
    name = f"`{option}` {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProbgenError(f"{name} cannot be read ({e})") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProbgenError(f"{name} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") \
            from None
    if not isinstance(values, dict):
        raise ProbgenError(f"{name} must hold a JSON object of {what} fields, got a JSON "
                           f"{type(values).__name__}")
    return values


def saved_config(out: str | Path | None) -> dict[str, Any] | None:
    """The ``config.json`` of run folder ``out``, or None when there is none."""
    if out is None:
        return None
    path = Path(out) / "config.json"
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{str(path)!r} is not valid JSON ({e}); fix or delete it, or use another folder") \
            from e
    if not isinstance(saved, dict):
        raise ValueError(f"{str(path)!r} must hold a JSON object of configuration fields")
    return saved


def resolve_run_config(cls: type[T], config: T | dict | None, out: str | Path | None, *, resume: bool = False,
                       prepare: Callable[[T], T] | None = None) -> T:
    """The configuration a run trains with, validated; reads ``out/config.json`` and writes nothing.

    Args:
        cls: the config dataclass (it lists the keys that may change on resume in ``cls.RESUMABLE``).
        config: an instance of ``cls`` (used as it is), a dict of fields, or None. For a new run a dict
            fills in the defaults; on resume it overrides the saved fields (a dict-valued field, such as a
            GAN's ``g_cfg``, key by key) and None means "the saved configuration".
        out: the run folder (None: no run folder).
        resume: continue the run in ``out`` when it has a ``config.json``.
        prepare: applied to the configuration before the comparison (e.g. to fill in the image shape
            from the data set, as the saved configuration has it).

    Raises:
        ValueError: a field is invalid, a key that may not change on resume differs from the run's, or
            ``out`` is not a folder that can be written (``probgen.checks.check_output_folder``).
    """
    if config is not None and not isinstance(config, cls | dict):
        raise ArgumentTypeError(f"`config` must be a {cls.__name__}, a dict of its fields or None, got "
                                f"{type(config).__name__}")
    if out is not None:
        check_output_folder("out", out)  # a path, and no file in the way (before any work)
    saved = saved_config(out) if resume else None
    if isinstance(config, cls):
        cfg = config
    elif saved is None:
        cfg = config_from_dict(cls, dict(config or {}))
    else:
        cfg = config_from_dict(cls, merge_overrides(saved, config or {}))
    cfg = prepare(cfg) if prepare is not None else cfg
    if saved is not None:
        check_resumable(cls, saved, config_dict(cfg), out)
    return cfg


def merge_overrides(saved: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``saved`` with the ``given`` keys replaced; dict-valued keys are merged key by key."""
    merged = dict(saved)
    for k, v in given.items():
        merged[k] = {**saved[k], **v} if isinstance(v, dict) and isinstance(saved.get(k), dict) else v
    return merged


def differing_keys(saved: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``key -> (saved value, new value)`` for every key whose values differ; dict values are compared key
    by key (``"g_cfg.ngf"``). A missing key reads as None."""
    out: dict[str, tuple[Any, Any]] = {}
    for k in list(saved) + [k for k in new if k not in saved]:
        a, b = plain(saved.get(k)), plain(new.get(k))
        if isinstance(a, dict) and isinstance(b, dict):
            out.update({f"{k}.{sub}": v for sub, v in differing_keys(a, b).items()})
        elif a != b:
            out[k] = (a, b)
    return out


def check_resumable(cls: type, saved: dict[str, Any], new: dict[str, Any], out: str | Path | None) -> None:
    """Refuse a resume whose configuration differs from the run's in a key not in ``cls.RESUMABLE``."""
    allowed = set(getattr(cls, "RESUMABLE", ()))
    refused = {k: v for k, v in differing_keys(saved, new).items() if k.split(".")[0] not in allowed}
    if refused:
        keys = "; ".join(f"`{k}` (run: {a!r}, now: {b!r})" for k, (a, b) in refused.items())
        raise ValueError(f"cannot resume {str(out)!r}: {keys} differ from the run's config.json, and only "
                         f"{sorted(allowed)} may change on resume; leave those options out (the run's "
                         "values are used) or start a new run in another folder")


def add_field_options(parser, defaults: Any, helps: dict[str, str]) -> None:
    """Add an option ``--field-name`` to an argparse ``parser`` for each config field named in ``helps``.

    Each option defaults to None ("not given", which is how a resume tells it from a default), has the type
    of the field's value in ``defaults`` (a config instance; int, float or str) and a help text that ends with
    that value as the effective default, unless the text already says "(default: ...)".
    """
    for name, text in helps.items():
        value = getattr(defaults, name)
        if "(default:" not in text:
            text = f"{text} (default: {value:g})" if isinstance(value, float) else \
                f"{text} (default: {value})"
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None, help=text)


def given_fields(args, names) -> dict[str, Any]:
    """The fields among ``names`` that were given on the command line (not None in ``args``)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}
