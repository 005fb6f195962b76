"""Figures: image grids (torchvision's ``make_grid``/``save_image``) and training curves, saved as PNG.

Functions that draw take an optional matplotlib ``ax`` and return it; functions that save take a path and
return it. Matplotlib uses the non-interactive Agg backend unless one was already chosen.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

if "MPLBACKEND" not in os.environ and matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import make_grid, save_image  # noqa: E402


def _check_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"`{name}` must be a (N, C, H, W) tensor, got {shape}")
    return images.detach().float().cpu()


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> torch.Tensor:
    """Tile (N, C, H, W) images in [0, 1] into one (3, H', W') grid image (``nrow`` per row)."""
    images = _check_images(images).clamp(0, 1)
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    return make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)


def save_image_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None,
                    padding: int = 2, title: str | None = None, scale: float = 2.0) -> Path:
    """Save (N, C, H, W) images in [0, 1] as one PNG grid; returns the path.

    Without ``title`` the PNG is the grid itself, pixel for pixel. With one, the grid is drawn as a
    matplotlib figure under that title, each image pixel ``scale`` screen pixels wide (readable in a page).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = image_grid(images, nrow, padding)
    if title is None:
        save_image(grid, path)
        return path
    h, w = grid.shape[1:]
    fig, ax = plt.subplots(figsize=(max(3.0, w * scale / 100), h * scale / 100 + 0.45))
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if images.shape[1] == 1 else None,
              interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path, dpi=100)


def show_images(images: torch.Tensor, ax=None, nrow: int | None = None, title: str | None = None):
    """Draw an image grid on a matplotlib axis (greyscale images in grey)."""
    ax = ax or plt.gca()
    grid = image_grid(images, nrow)
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if images.shape[1] == 1 else None)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: Mapping[str, Sequence[float]] | Sequence[Mapping[str, str]], x: str | None = None,
                keys: Sequence[str] | None = None, ax=None, title: str | None = None, ylabel: str = ""):
    """Plot training curves.

    ``curves`` is either a mapping name -> values, or rows as read from ``metrics.csv`` (then ``x``
    names the column for the horizontal axis and ``keys`` the columns to draw; empty cells are skipped).
    """
    ax = ax or plt.gca()
    if isinstance(curves, Mapping):
        for name, values in curves.items():
            if keys is None or name in keys:
                ax.plot(list(values), label=name)
        ax.set_xlabel("step")
    else:
        rows = list(curves)
        keys = keys or [k for k in (rows[0] if rows else {}) if k != x]
        for k in keys:
            pts = [(float(r[x]) if x else i, float(r[k])) for i, r in enumerate(rows) if r.get(k, "") != ""]
            if pts:
                ax.plot(*zip(*pts), label=k)
        ax.set_xlabel(x or "row")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG and close it; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def save_curves(curves, path: str | os.PathLike, **kwargs) -> Path:
    """:func:`plot_curves` on a new figure, saved to ``path``."""
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_curves(curves, ax=ax, **kwargs)
    return save_figure(fig, path)
