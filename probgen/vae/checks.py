"""The VAE's input checks: the observation mask of inpainting, and image batches as a likelihood needs
them. Both rest on ``probgen.checks_torch`` (labels too); shapes and widths are checked by
``probgen.vae.config``."""

from __future__ import annotations

import torch

from probgen.checks_torch import check_image_batch


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


def check_vae_images(x, x_shape: tuple[int, int, int], likelihood, *, who: str = "this VAE",
                     dtype: torch.dtype | None = None, name: str = "x") -> torch.Tensor:
    """A batch (B, C, H, W) for a VAE or autoencoder with ``likelihood``: finite, in [0, 1] when the
    likelihood needs it, of the networks' dtype (``probgen.checks_torch.check_image_batch``)."""
    hint = (f"the {likelihood.name!r} likelihood needs pixels in [0, 1]: scale the images to [0, 1] (and "
            "binarize them for 'bernoulli', e.g. probgen.data.binarize_images), or use likelihood='gaussian'")
    return check_image_batch(x, x_shape, name=name, who=who, dtype=dtype, range_hint=hint,
                             value_range=(0.0, 1.0) if likelihood.unit_interval else None)
