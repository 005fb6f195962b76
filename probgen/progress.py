"""Progress bars: tqdm on a terminal, silent when output is not a TTY or when asked to be quiet.

tqdm is imported on the first bar, so that ``probgen --quiet`` (``set_quiet``) costs no import.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tqdm.auto import tqdm

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) every probgen progress bar, e.g. for ``--quiet``."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    return _QUIET


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
             quiet: bool | None = None, **kwargs) -> tqdm:
    """A tqdm bar that is disabled under ``--quiet``, off a TTY, or when ``quiet=True``."""
    from tqdm.auto import tqdm

    disable = _QUIET if quiet is None else quiet
    disable = disable or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, disable=disable, dynamic_ncols=True, leave=False, **kwargs)
