"""Input checks for the VAE: each bad input becomes one ValueError/TypeError that names the argument,
echoes what was given and says the fix, before it can surface as a traceback from inside Pyro or torch.

The value checks cost one ``aminmax`` pass over the batch; they are skipped while ``torch.jit`` traces
(``JitTrace_ELBO``), where a Python ``if`` on a tensor would freeze into the compiled graph.
"""

from __future__ import annotations

import math

import torch


def check_images(x, x_shape: tuple[int, int, int], unit_interval: bool, likelihood: str,
                 name: str = "x") -> torch.Tensor:
    """Check a batch of images (B, C, H, W) against the model's ``x_shape``; return it."""
    if torch.jit.is_tracing():  # sizes are traced tensors there; the first, untraced call checked them
        return x
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor of shape (B, {_fmt(x_shape)}), "
                        f"got {type(x).__name__}")
    if not x.is_floating_point():
        hint = " (uint8 images: divide by 255, e.g. x.float() / 255)" if x.dtype == torch.uint8 else ""
        raise TypeError(f"`{name}` must be a floating-point tensor, got dtype {x.dtype}{hint}")
    if x.ndim == 3 and tuple(x.shape) == tuple(x_shape):
        raise ValueError(f"`{name}` has shape {tuple(x.shape)}, one image without a batch dimension; "
                         f"pass {name}.unsqueeze(0) for shape (1, {_fmt(x_shape)})")
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(x_shape):
        raise ValueError(f"`{name}` has shape {tuple(x.shape)} but this VAE expects (B, {_fmt(x_shape)}) "
                         f"(its `x_shape`={tuple(x_shape)}); reshape the batch or build the VAE with "
                         "the data's shape")
    if x.shape[0] == 0:
        raise ValueError(f"`{name}` is an empty batch (shape {tuple(x.shape)})")
    lo, hi = torch.aminmax(x)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); clean the batch first")
    if unit_interval and (lo < 0 or hi > 1):
        raise ValueError(
            f"`{name}` has values in [{lo:.4g}, {hi:.4g}] but the {likelihood!r} likelihood needs pixels in "
            "[0, 1]; scale the images to [0, 1] (and binarize them for 'bernoulli', e.g. "
            "probgen.data.binarize_images), or use likelihood='gaussian'"
        )
    return x


def check_labels(y, num_classes: int | None, batch: int, name: str = "y") -> torch.Tensor | None:
    """Check labels (B,) int64 in [0, num_classes) of a conditional VAE; None for an unconditional one."""
    if num_classes is None:
        if y is not None:
            raise ValueError(f"`{name}` (labels) was given but this VAE is unconditional "
                             "(`num_classes`=None); drop the labels or build VAE(..., num_classes=K)")
        return None
    if torch.jit.is_tracing():
        return y
    if y is None:
        raise ValueError(f"this VAE is conditional (`num_classes`={num_classes}) and needs labels `{name}`; "
                         f"pass {name}=<int64 tensor of shape ({batch},)>")
    if isinstance(y, int) and not isinstance(y, bool):
        y = torch.full((batch,), y, dtype=torch.long)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"`{name}` must be an int64 tensor of shape ({batch},), got {type(y).__name__}")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"`{name}` must hold integer class labels, got dtype {y.dtype}; use {name}.long()")
    if tuple(y.shape) != (batch,):
        raise ValueError(f"`{name}` has shape {tuple(y.shape)}; expected ({batch},), one label per image")
    lo, hi = (int(v) for v in torch.aminmax(y))
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"`{name}` has labels in [{lo}, {hi}] but `num_classes`={num_classes} allows "
                         f"0..{num_classes - 1}")
    return y


def check_mask(mask, x: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """Check an observation mask (True = observed pixel) broadcastable to ``x`` (B, C, H, W)."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"`{name}` must be a bool tensor broadcastable to {tuple(x.shape)}, "
                        f"got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"`{name}` must have dtype torch.bool (True = observed pixel), got {mask.dtype}; "
                        f"use {name} > 0.5")
    try:
        return torch.broadcast_to(mask, x.shape)
    except RuntimeError:
        raise ValueError(f"`{name}` has shape {tuple(mask.shape)}, which does not broadcast to the images' "
                         f"shape {tuple(x.shape)}") from None


def check_int(name: str, v, low: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        raise ValueError(f"`{name}` must be an int >= {low}, got {v!r}")
    return v


def check_x_shape(x_shape) -> tuple[int, int, int]:
    try:
        shape = tuple(int(s) for s in x_shape)
        ok = len(shape) == 3 and all(s > 0 for s in shape) and all(int(s) == s for s in x_shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"`x_shape` must be (C, H, W) with positive ints, e.g. (1, 28, 28); got {x_shape!r}")
    return shape


def check_hidden(hidden) -> tuple[int, ...]:
    h = (hidden,) if isinstance(hidden, int) and not isinstance(hidden, bool) else hidden
    try:
        h = tuple(h)
    except TypeError:
        h = None
    if h is None or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in h):
        raise ValueError(f"`hidden` must be a positive int or a tuple of them (() for linear nets), "
                         f"got {hidden!r}")
    return h


def _fmt(shape) -> str:
    return ", ".join(str(s) for s in shape)
