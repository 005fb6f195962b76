"""Lazy package attributes (PEP 562), so that ``import probgen.<family>.cli`` and ``probgen --help`` do not
import torch or Pyro.

A package's ``__init__`` declares what it exports and where each name lives::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {
        "VAE": "probgen.vae.model",
        "train_vae": "probgen.vae.train",
    })

``from probgen.vae import VAE`` then imports ``probgen.vae.model`` on first use, exactly as an eager import
would, and ``dir()``/``__all__`` list every name (the API pages and ``from x import *`` keep working).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable, Callable, list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``: each name in ``names`` maps to its module."""

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        importlib.import_module(package).__dict__[name] = value  # cache: later lookups skip this hook
        return value

    def __dir__() -> list[str]:
        return sorted(set(names) | set(importlib.import_module(package).__dict__))

    return __getattr__, __dir__, sorted(names)
