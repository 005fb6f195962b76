"""A registry of generator and discriminator architectures, in the style of torchvision's ``models/_api.py``.

Each architecture registers itself under a name and a role (``"generator"`` or ``"discriminator"``)::

    G = get_model("dcgan", role="generator", image_size=28, channels=1)
    D = get_model("patchgan", role="discriminator", image_size=28, n_layers=2)
    list_models("discriminator")  # ['dcgan', 'patchgan', 'vit']

Configuration is by keyword; a key the architecture does not take raises a ValueError naming the keys it
does take (as nanoGPT's configurator does), instead of being ignored. The built-in architectures register
when the registry is first asked for a model or a list, so ``import probgen.gan`` stays light.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from torch import nn

ROLES = ("generator", "discriminator")

_MODELS: dict[str, dict[str, Callable[..., nn.Module]]] = {role: {} for role in ROLES}
_BUILTINS = ("probgen.gan.dcgan", "probgen.gan.patchgan", "probgen.gan.transgan", "probgen.gan.vit")
_builtins_loaded = False


def _load_builtins() -> None:
    """Import the modules of the built-in architectures (each registers itself), once."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in _BUILTINS:
            importlib.import_module(module)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"`role`={role!r} is not a role; use one of {list(ROLES)}")


def register_model(name: str, role: str) -> Callable:
    """Class decorator: register an ``nn.Module`` class as architecture ``name`` for ``role``."""
    _check_role(role)

    def wrapper(cls):
        if name in _MODELS[role]:
            raise ValueError(f"a {role} named {name!r} is already registered ({_MODELS[role][name]})")
        _MODELS[role][name] = cls
        return cls

    return wrapper


def list_models(role: str = "generator") -> list[str]:
    """Sorted names of the registered architectures for ``role`` ("generator" or "discriminator")."""
    _check_role(role)
    _load_builtins()
    return sorted(_MODELS[role])


def get_model_builder(name: str, role: str = "generator") -> Callable[..., nn.Module]:
    """The class registered as ``name`` for ``role``."""
    _check_role(role)
    _load_builtins()
    if name not in _MODELS[role]:
        raise ValueError(f"Unknown {role} {name!r}; known {role}s: {list_models(role)}")
    return _MODELS[role][name]


def model_options(name: str, role: str = "generator") -> dict[str, object]:
    """The keyword arguments architecture ``name`` takes, with their defaults."""
    sig = inspect.signature(get_model_builder(name, role))
    return {k: p.default for k, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY}


def get_model(name: str, role: str = "generator", **cfg) -> nn.Module:
    """Build architecture ``name`` for ``role`` with keyword configuration ``cfg``.

    Raises:
        ValueError: unknown name or role, or a configuration key the architecture does not take.
    """
    options = model_options(name, role)
    unknown = sorted(set(cfg) - set(options))
    if unknown:
        raise ValueError(
            f"{role} {name!r} does not take {unknown}; it takes {sorted(options)}"
        )
    return get_model_builder(name, role)(**cfg)
