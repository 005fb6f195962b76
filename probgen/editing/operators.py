"""Observation operators A for image editing: y = A(x) + N(0, sigma_y^2 I).

Each operator maps a batch of images x (..., C, H, W) (any leading dims, e.g. (B, ...) or
(num_samples, B, ...)), pixels in [0, 1], to observations y (..., *shape_out).
All of them are linear, and each output pixel depends on its own disjoint set of input pixels, which gives
the samplers three things besides ``apply``:

* ``adjoint(y)``: A^T y, (..., *shape_out) -> (..., C, H, W);
* ``pinv(y)``: the Moore-Penrose pseudo-inverse A^+ y (the least-norm x with A x = y when y is in the
  range of A), exact: A A^T is diagonal (disjoint supports), so A^+ y = A^T (y / (A o A) 1);
* ``variance(v)``: the variance of A(x) when the pixels of x are independent with variances v, i.e.
  diag(A diag(v) A^T) = (A o A) v (the squared weights applied to v), exact because of the disjoint supports.

Operators:

* ``Mask(mask)``: inpainting and uncropping; ``mask`` is True where a pixel is observed, of shape (H, W),
  (C or 1, H, W) or (1, C or 1, H, W), broadcast over the batch. A(x) = mask * x keeps the image's shape
  (unobserved pixels are 0), so A = A^T = A^+ (an orthogonal projection).
* ``Downsample(factor)``: super-resolution; average pooling over factor x factor blocks (factor must divide
  H and W). A^T spreads each value over its block divided by factor^2; A^+ repeats it (nearest neighbour).
* ``Grayscale()``: colorization of 3-channel images; the luminance y = 0.299 R + 0.587 G + 0.114 B
  (ITU-R BT.601) as a (1, H, W) image. A^+ y = w y / |w|^2.

Compose with ``Compose(A, B)`` or ``A @ B`` (B first, then A): e.g. ``Mask(m) @ Downsample(2)`` observes part
of a low-resolution image (``m`` then has the low-resolution shape).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from probgen.checks import ArgumentTypeError, check_int
from probgen.errors import ProbgenError

LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma weights of R, G, B


def _shape(shape, name: str = "image_shape") -> tuple[int, int, int]:
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"`{name}` must be a (C, H, W) tuple of ints, got {shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ProbgenError(f"`{name}` must be a (C, H, W) tuple of positive ints, got {shape!r}")
    return shape


class Operator:
    """Base class of observation operators: ``apply``, ``shape_out`` and, for linear ones, ``adjoint``,
    ``pinv`` and ``variance`` (see the module docstring). Subclasses set ``linear``."""

    linear = True

    def shape_out(self, shape) -> tuple[int, ...]:
        """The (C', H', W') of A(x) for images of shape ``shape`` = (C, H, W); raises a ProbgenError naming
        the argument when this operator cannot act on such images."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """A(x): (..., C, H, W) -> (..., *shape_out)."""
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """A^T y: (..., *shape_out) -> (..., C, H, W)."""
        raise NotImplementedError(f"{self!r} has no adjoint (it is not linear)")

    def variance(self, v: torch.Tensor) -> torch.Tensor:
        """diag(A diag(v) A^T): the variance of A(x) for independent pixels of variance v (..., C, H, W)."""
        raise NotImplementedError(f"{self!r} has no variance map (it is not linear)")

    def pinv(self, y: torch.Tensor) -> torch.Tensor:
        """A^+ y (..., *shape_out) -> (..., C, H, W) = A^T (A A^T)^+ y. The rows of these operators have
        disjoint supports, so A A^T is diagonal, d = (A o A) 1 = ``variance(1)``, and A^+ y = A^T (y / d)
        (0 where d = 0): exact, no iterations. An operator without disjoint supports must override this."""
        if not self.linear:
            raise NotImplementedError(f"{self!r} has no pseudo-inverse (it is not linear)")
        shape = self._in_shape(y)
        d = self.variance(torch.ones(shape, dtype=y.dtype, device=y.device))  # shape_out
        return self.adjoint(torch.where(d > 0, y / d.clamp(min=1e-30), torch.zeros_like(y)))

    def _in_shape(self, y: torch.Tensor) -> tuple[int, int, int]:
        """The (C, H, W) of the images behind observations ``y`` (from the adjoint of a zero batch)."""
        return tuple(self.adjoint(torch.zeros(y.shape[-3:], dtype=y.dtype, device=y.device)).shape)

    def project(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x + A^+(y - A x): the point of {A x = y} closest to ``x`` (the range space from ``y``, the null
        space from ``x``); (..., C, H, W)."""
        return x + self.pinv(y - self.apply(x))

    def __matmul__(self, other: Operator) -> Compose:
        if not isinstance(other, Operator):
            return NotImplemented
        return Compose(self, other)


class Mask(Operator):
    """Observe the pixels where ``mask`` is True (bool, or 0/1 values of any dtype); see the module doc."""

    def __init__(self, mask) -> None:
        if not isinstance(mask, torch.Tensor):
            raise ArgumentTypeError(f"`mask` must be a torch.Tensor (True where a pixel is observed), "
                                    f"got {type(mask).__name__}")
        if mask.dtype != torch.bool:
            bad = ~((mask == 0) | (mask == 1))
            if bad.any():
                raise ProbgenError(f"`mask` must be boolean or hold only 0 and 1 (True/1 = observed), got "
                                   f"the value {mask[bad].flatten()[0].item()!r}; pass `mask > 0.5`")
            mask = mask != 0
        if mask.ndim == 4 and mask.shape[0] == 1:
            mask = mask[0]
        if mask.ndim == 2:
            mask = mask[None]
        if mask.ndim != 3:
            raise ProbgenError(f"`mask` must have shape (H, W), (C, H, W) or (1, C, H, W) (one mask, "
                               f"broadcast over the batch), got {tuple(mask.shape)}")
        self.mask = mask  # (C or 1, H, W) bool

    def shape_out(self, shape):
        shape = _shape(shape)
        c, h, w = self.mask.shape
        if (h, w) != shape[1:] or c not in (1, shape[0]):
            raise ProbgenError(f"`mask` has shape {tuple(self.mask.shape)}, which does not fit images of "
                               f"shape {shape}; give an (H, W) = {shape[1:]} mask, or (C, H, W) with "
                               f"C = 1 or {shape[0]}")
        return shape

    def _m(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask.to(x.device)

    def apply(self, x):
        return x * self._m(x).to(x.dtype)

    adjoint = apply
    pinv = apply  # an orthogonal projection is its own pseudo-inverse

    def variance(self, v):
        return self.apply(v)

    def observed(self, shape) -> torch.Tensor:
        """The mask broadcast to (C, H, W) images."""
        return self.mask.expand(_shape(shape))

    def __repr__(self):
        return f"Mask(shape={tuple(self.mask.shape)}, observed={self.mask.float().mean().item():.3f})"


class Downsample(Operator):
    """Average pooling over ``factor`` x ``factor`` blocks (super-resolution)."""

    def __init__(self, factor: int) -> None:
        self.factor = check_int("factor", factor, 1)

    def shape_out(self, shape):
        c, h, w = _shape(shape)
        f = self.factor
        if h % f or w % f:
            raise ProbgenError(f"`factor`={f} does not divide the image size (H, W) = ({h}, {w}); use a "
                               f"factor that divides both (e.g. 2 or 4 for 28 x 28), or pad the images")
        return (c, h // f, w // f)

    def apply(self, x):
        if self.factor == 1:
            return x
        y = F.avg_pool2d(x.reshape(-1, *x.shape[-3:]), self.factor)
        return y.reshape(*x.shape[:-2], *y.shape[-2:])

    def pinv(self, y):
        f = self.factor
        return y.repeat_interleave(f, -2).repeat_interleave(f, -1) if f > 1 else y

    def adjoint(self, y):
        return self.pinv(y) / self.factor**2

    def variance(self, v):
        return self.apply(v) / self.factor**2

    def __repr__(self):
        return f"Downsample(factor={self.factor})"


class Grayscale(Operator):
    """The luminance of a 3-channel image, (..., 3, H, W) -> (..., 1, H, W) (colorization)."""

    def __init__(self, weights=LUMINANCE) -> None:
        self.weights = torch.as_tensor(weights, dtype=torch.float64).flatten()
        if self.weights.numel() != 3:
            raise ProbgenError(f"`weights` must be 3 numbers (R, G, B), got {weights!r}")

    def shape_out(self, shape):
        c, h, w = _shape(shape)
        if c != 3:
            raise ProbgenError(f"Grayscale (colorization) needs 3-channel images, got image_shape "
                               f"{(c, h, w)}; "
                               "use colour data (e.g. a coloured data set) or another task")
        return (1, h, w)

    def _w(self, x):
        return self.weights.to(x.device, x.dtype).view(3, 1, 1)

    def apply(self, x):
        return (x * self._w(x)).sum(-3, keepdim=True)

    def adjoint(self, y):
        return y * self._w(y)

    def pinv(self, y):
        return self.adjoint(y) / float((self.weights**2).sum())

    def variance(self, v):
        return (v * self._w(v) ** 2).sum(-3, keepdim=True)

    def __repr__(self):
        return f"Grayscale(weights={tuple(round(float(w), 4) for w in self.weights)})"


class Compose(Operator):
    """``Compose(A, B)``: x -> A(B(x)) (``A @ B``). Linear when both are; the pseudo-inverse is the base
    class's exact A^T (A A^T)^+ (B^+ A^+ is not (AB)^+ in general)."""

    def __init__(self, outer: Operator, inner: Operator) -> None:
        for name, op in (("outer", outer), ("inner", inner)):
            if not isinstance(op, Operator):
                raise ArgumentTypeError(f"`{name}` must be a probgen.editing Operator, "
                                        f"got {type(op).__name__}")
        self.outer, self.inner = outer, inner
        self.linear = outer.linear and inner.linear

    def shape_out(self, shape):
        return self.outer.shape_out(self.inner.shape_out(shape))

    def apply(self, x):
        return self.outer.apply(self.inner.apply(x))

    def adjoint(self, y):
        return self.inner.adjoint(self.outer.adjoint(y))

    def variance(self, v):
        return self.outer.variance(self.inner.variance(v))

    def __repr__(self):
        return f"{self.outer!r} @ {self.inner!r}"


def check_observation(operator: Operator, y, image_shape, name: str = "y") -> torch.Tensor:
    """Check that ``y`` is a floating (B, *operator.shape_out(image_shape)) batch of finite values."""
    if not isinstance(operator, Operator):
        raise ArgumentTypeError(f"`operator` must be a probgen.editing Operator (Mask, Downsample, "
                                f"Grayscale, or a composition), got {type(operator).__name__}")
    want = operator.shape_out(image_shape)
    if not isinstance(y, torch.Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor of shape (B, {', '.join(map(str, want))}), "
                                f"got {type(y).__name__}")
    if y.ndim != 4 or tuple(y.shape[1:]) != want:
        raise ProbgenError(f"`{name}` has shape {tuple(y.shape)} but the operator {operator!r} maps "
                           f"{tuple(image_shape)} images to (B, {', '.join(map(str, want))}); pass "
                           f"y = operator.apply(x) for images x of the model's shape")
    if not y.is_floating_point():
        raise ArgumentTypeError(f"`{name}` must be floating point (pixels in [0, 1]), got {y.dtype}")
    if not torch.isfinite(y).all():
        raise ProbgenError(f"`{name}` holds NaN or infinite values")
    return y
