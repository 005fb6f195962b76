"""Trivial editing baselines, in the shape the samplers return: (num_samples, B, C, H, W).

They are the floor the posterior samplers of ``probgen.editing.complete`` must beat (docs/editing.md):

* ``"mean"``: the training-set mean image, made consistent with the observation:
  x = m + A^+(y - A m). For a mask this is mean fill (observed pixels kept, the rest the mean); for
  downsampling the mean's detail on the observed block means; for grayscale the mean colour shifted to
  the observed luminance. One completion.
* ``"nearest"``: the k training images whose A(x_i) is closest to y (Euclidean), each made consistent the
  same way, x_i + A^+(y - A x_i) (for a mask: the neighbour pasted into the missing region). k completions
  (``num_samples``), nearest first.
* ``"bicubic"``: bicubic upsampling of a ``Downsample`` observation (super-resolution only).
* ``"luminance"``: the observed luminance copied to R, G and B, a grey image with exactly that luminance
  (BT.601 weights sum to 1; ``Grayscale`` only).

Every completion is clamped to the pixel range [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from probgen.editing.operators import Downsample, Grayscale, Operator, check_observation
from probgen.errors import ProbgenError

__all__ = ["BASELINES", "baseline_complete", "baselines_for"]

BASELINES = {
    "mean": "training-set mean, projected onto A x = y (mean fill for masks)",
    "nearest": "nearest training images in observation space, projected onto A x = y",
    "bicubic": "bicubic upsampling (Downsample only)",
    "luminance": "luminance copied to R, G, B (Grayscale only)",
}


def baselines_for(operator: Operator) -> list[str]:
    """The baselines that apply to ``operator`` (``"mean"`` and ``"nearest"`` apply to every one)."""
    extra = {Downsample: "bicubic", Grayscale: "luminance"}.get(type(operator))
    return ["mean", "nearest", *([extra] if extra else [])]


def baseline_complete(name: str, y: torch.Tensor, operator: Operator, train: torch.Tensor | None = None, *,
                      num_samples: int = 1, chunk: int = 512) -> torch.Tensor:
    """Completions of observations ``y`` by baseline ``name`` (a key of ``BASELINES``).

    Args:
        y: observations (B, *operator.shape_out(C, H, W)).
        operator: the observation operator.
        train: training images (N, C, H, W) in [0, 1], needed by ``"mean"`` and ``"nearest"``.
        num_samples: completions per observation; ``"nearest"`` returns the ``num_samples`` nearest
            neighbours, the deterministic baselines repeat their one completion.
        chunk: training images compared per step by ``"nearest"`` (memory, not results).

    Returns:
        (num_samples, B, C, H, W) completions in [0, 1].
    """
    if name not in BASELINES:
        raise ProbgenError(f"`name`={name!r} is not a baseline; use one of {list(BASELINES)}")
    if name not in baselines_for(operator):
        raise ProbgenError(f"baseline {name!r} does not apply to {operator!r}; use one of "
                           f"{baselines_for(operator)}")
    if name in ("mean", "nearest"):
        if not isinstance(train, torch.Tensor) or train.ndim != 4:
            raise ProbgenError(f"baseline {name!r} needs `train`, training images (N, C, H, W)")
        check_observation(operator, y, train.shape[1:])
        train = train.to(y.dtype)
    if name == "mean":
        x = operator.project(train.mean(0, keepdim=True).expand(len(y), -1, -1, -1), y)[None]
    elif name == "nearest":
        idx = _nearest(y, operator, train, num_samples, chunk)  # (S, B)
        x = torch.stack([operator.project(train[i], y) for i in idx])
    elif name == "bicubic":
        x = F.interpolate(y, scale_factor=operator.factor, mode="bicubic", align_corners=False)[None]
    else:
        x = y.expand(-1, 3, -1, -1)[None]
    x = x.clamp(0, 1)  # (S or 1, B, C, H, W)
    return x.expand(num_samples, *x.shape[1:]).contiguous() if len(x) == 1 else x


def _nearest(y: torch.Tensor, operator: Operator, train: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Indices (k, B) of the k training images with A(x_i) nearest to y, nearest first."""
    if not 1 <= k <= len(train):
        raise ProbgenError(f"`num_samples`={k} nearest neighbours need 1 <= k <= {len(train)} (the "
                           "training images)")
    flat_y = y.flatten(1)  # (B, D)
    dists = torch.cat([torch.cdist(flat_y, operator.apply(train[i : i + chunk]).flatten(1))
                       for i in range(0, len(train), chunk)], dim=1)  # (B, N)
    return dists.topk(k, dim=1, largest=False).indices.T  # (k, B)
