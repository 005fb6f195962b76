"""Pictures of editing: what an observation looks like, and the observation / samples / truth grid."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from probgen.editing.operators import Grayscale, Mask, Operator

__all__ = ["edit_grid", "observation_image", "save_edit_grid"]

MISSING = 0.5  # the grey that marks unobserved pixels in pictures of a mask's observation


def observation_image(y: torch.Tensor, operator: Operator, shape) -> torch.Tensor:
    """Observations ``y`` (B, *shape_out) drawn as images (B, C, H, W) in [0, 1]: a luminance as a grey
    image, a masked image with the missing pixels grey (``MISSING``), anything else through A^+ (a
    downsampled image as blocks)."""
    if isinstance(operator, Grayscale):
        return y.expand(-1, 3, -1, -1).clamp(0, 1)
    x = operator.pinv(y)
    if isinstance(operator, Mask):
        x = torch.where(operator.observed(shape).to(x.device), x, torch.full_like(x, MISSING))
    return x.clamp(0, 1)


def edit_grid(y: torch.Tensor, operator: Operator, samples: torch.Tensor,
              truth: torch.Tensor) -> torch.Tensor:
    """The rows of an editing figure, one column per image: the observation, each of the S samples, the
    ground truth. ``samples`` (S, B, C, H, W), ``truth`` (B, C, H, W) -> (S + 2) * B images, row-major."""
    obs = observation_image(y, operator, truth.shape[1:])
    return torch.cat([obs, samples.flatten(0, 1), truth]).detach().cpu()  # ((S + 2) * B, C, H, W)


def save_edit_grid(y: torch.Tensor, operator: Operator, samples: torch.Tensor, truth: torch.Tensor,
                   path: str | os.PathLike) -> Path:
    """Write :func:`edit_grid` as one PNG (``len(truth)`` columns); returns the path."""
    from probgen.plot import save_image_grid

    return save_image_grid(edit_grid(y, operator, samples, truth), path, nrow=len(truth))
