"""The model families that plug into the ``probgen`` command and ``probgen demo``.

Each family ``F`` in ``FAMILIES`` has a module ``probgen.F.cli`` with two functions (see DEVELOPING.md):
``register(train, top)`` adds its commands to the parser, and ``demo(run, quick)`` runs its part of the demo
and returns a Markdown section. Both ``probgen.cli`` and ``probgen.demo`` find the families here, so neither
imports the other. Importing this module imports no torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FAMILIES = ("vae", "bayesnet", "gan")
# the demo's sections in order: the families plus the parts that belong to no one family (probgen.demo)
DEMO_SECTIONS = ("data", "vae", "bayesnet", "gan", "compare", "kl", "diffusion")


def family_cli(name: str) -> ModuleType | None:
    """The CLI module of a model family (``probgen.<name>.cli``), or None if the family has none.

    Args:
        name: a family in ``FAMILIES`` (e.g. ``"vae"``).

    Returns:
        The imported module, or None when ``probgen.<name>.cli`` does not exist. An import error raised
        inside an existing module propagates.
    """
    try:
        return importlib.import_module(f"probgen.{name}.cli")
    except ModuleNotFoundError as e:
        if e.name in (f"probgen.{name}", f"probgen.{name}.cli"):
            return None
        raise


def demo_sections(families) -> list[str]:
    """The demo sections that can run when ``families`` (names in ``FAMILIES``) have their CLI module: the
    sections of no one family, and those families'."""
    return [s for s in DEMO_SECTIONS if s not in FAMILIES or s in families]


def available_families() -> list[str]:
    """The names in ``FAMILIES`` whose CLI module exists, in order."""
    return [name for name in FAMILIES if family_cli(name) is not None]
