"""The four editing tasks of the benchmark, as observation operators for a given image shape.

* ``"inpaint-center"``: the centre square of side H // 2 (rows and columns H // 4 .. H // 4 + H // 2) is
  missing; every other pixel is observed.
* ``"uncrop-right"``: the right half (columns W // 2 ..) is missing.
* ``"superres4"``: 4 x 4 average pooling (28 x 28 -> 7 x 7).
* ``"colorize"``: the BT.601 luminance of a 3-channel image.
"""

from __future__ import annotations

import torch

from probgen.checks import check_choice
from probgen.editing.operators import Downsample, Grayscale, Mask, Operator, _shape

TASKS: dict[str, str] = {
    "inpaint-center": "observe all but the centre square of side H/2 (Mask)",
    "uncrop-right": "observe the left half, complete the right half (Mask)",
    "superres4": "observe the 4 x 4 block means, i.e. a 4x downsampled image (Downsample(4))",
    "colorize": "observe the luminance 0.299 R + 0.587 G + 0.114 B of a colour image (Grayscale())",
}


def task_operator(name: str, image_shape) -> Operator:
    """The operator of task ``name`` (one of ``TASKS``) for images of shape ``image_shape`` = (C, H, W).

    Raises:
        ProbgenError: an unknown task (with a close-match hint), or a task that does not fit the shape
            (``"superres4"`` on sizes not divisible by 4, ``"colorize"`` on 1-channel images).
    """
    check_choice("task", name, TASKS)
    c, h, w = _shape(image_shape)
    if name == "inpaint-center":
        mask = torch.ones(h, w, dtype=torch.bool)
        mask[h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = False
        op = Mask(mask)
    elif name == "uncrop-right":
        mask = torch.ones(h, w, dtype=torch.bool)
        mask[:, w // 2 :] = False
        op = Mask(mask)
    elif name == "superres4":
        op = Downsample(4)
    else:
        op = Grayscale()
    op.shape_out((c, h, w))  # refuse a task that does not fit, naming the argument
    return op
