"""``"mnist-5k-colour"``: mnist-5k with a seeded foreground/background colour pair per digit (3x28x28).

Colorization needs colour images and nothing can be downloaded, so this data set is made from the shipped
mnist-5k digits: each digit's grey level g in [0, 1] blends two RGB colours, ``x = g * fg + (1 - g) * bg``.
The pairs are drawn from a fixed generator (one seed per split, in the split's order), so every load gives
the same images, and the split (and the labels) are mnist-5k's: 4,000 train / 1,000 test.

Each foreground is brighter than its background by at least ``MIN_CONTRAST`` in luminance (ITU-R BT.601
weights ``LUMA``), so the grey version of an image is still a light digit on a darker ground, but the hue
of both is free: a grey image does not determine its colours (colorization is ambiguous by design).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["LUMA", "MIN_CONTRAST", "colour_pairs", "colour_digits"]

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 luminance weights of R, G, B
MIN_CONTRAST = 0.35  # luminance(fg) - luminance(bg) of every pair is at least this
_SPLIT_SEEDS = {"train": 5_001, "test": 5_002}


def colour_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded (foreground, background) RGB pairs, each (n, 3) float32 in [0, 1], with
    ``luminance(fg) - luminance(bg) >= MIN_CONTRAST`` (rejection sampling, a fixed number of rounds)."""
    rng = np.random.default_rng(seed)
    luma = np.asarray(LUMA)
    fg, bg = np.empty((n, 3)), np.empty((n, 3))
    todo = np.arange(n)
    while len(todo):  # about a third of the draws are kept, so a handful of rounds
        f, b = rng.uniform(size=(len(todo), 3)), rng.uniform(size=(len(todo), 3))
        ok = (f - b) @ luma >= MIN_CONTRAST
        fg[todo[ok]], bg[todo[ok]] = f[ok], b[ok]
        todo = todo[~ok]
    return fg.astype(np.float32), bg.astype(np.float32)


def colour_digits(grey: torch.Tensor, split: str) -> torch.Tensor:
    """Colour a split of grey digits: (N, 1, H, W) in [0, 1] -> (N, 3, H, W) in [0, 1]."""
    fg, bg = (torch.from_numpy(a)[:, :, None, None] for a in colour_pairs(len(grey), _SPLIT_SEEDS[split]))
    return (grey * fg + (1 - grey) * bg).clamp_(0, 1).contiguous()  # (N, 3, H, W)
