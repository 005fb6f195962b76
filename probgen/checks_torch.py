"""The tensor-side checks of probgen's conventions: image batches, latent codes, class labels and
diffusion steps, used by every model family (VAE, GAN nets, DDPM) and by the sample-quality metrics.

Each bad input becomes one ``ValueError``/``TypeError`` that names the argument, echoes what was given and
says the fix, before it can surface as a traceback from inside torch or Pyro. The scalar checks
(``check_int``, ``check_num_classes``, ...) live in ``probgen.checks``, which imports no torch.

One dtype rule everywhere (``as_model_dtype``): a real-valued tensor argument (images, latent codes, noise)
must be floating point. One of another floating dtype is converted to the model's parameter dtype when the
conversion is lossless, i.e. a widening (float16 or bfloat16 to float32, float32 to float64); a narrowing
(float64 to float32, the usual NumPy case) would round the values, so it is refused with a message that
names the argument, both dtypes and the fix (``x.float()``). Integer and bool tensors are refused (0..255
pixels or labels passed by mistake are the usual cause). Labels must be integers. Under ``torch.autocast``
the dtypes are left to autocast.

Costs: shape and dtype checks are attribute reads; a value check is one ``aminmax`` pass over the batch
(so it also catches NaN and infinities). Both functions do nothing while ``torch.jit`` traces, where a
Python ``if`` on a tensor would freeze into the compiled graph (the first, untraced call checked).
"""

from __future__ import annotations

import math

import torch

from probgen.checks import ArgumentTypeError

_LABEL_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def _fmt(shape) -> str:
    return ", ".join(str(s) for s in shape)


def check_image_batch(x, shape: tuple[int, int, int], *, name: str = "x", who: str = "the model",
                      dtype: torch.dtype | None = None, value_range: tuple[float, float] | None = None,
                      finite: bool = True, tol: float = 0.0, range_hint: str = "") -> torch.Tensor:
    """Check a batch of images (B, C, H, W) of the given (C, H, W); return it, in ``dtype`` (see
    ``as_model_dtype``: a lossless widening is applied, a narrowing refused).

    Args:
        x: the batch.
        shape: (C, H, W) that ``who`` works on.
        name: the argument's name in messages.
        who: what takes the batch, e.g. ``"this VAE"`` (in messages).
        dtype: the model's parameter dtype (None: any floating dtype); see ``as_model_dtype``.
        value_range: ``(lo, hi)`` the values must lie in (up to ``tol``), or None for any values.
        finite: refuse NaN and infinite values (implied by ``value_range``). With neither, no pass over
            the values is made (for networks' forward passes inside a training loop).
        tol: round-off allowed outside ``value_range``.
        range_hint: added to the out-of-range message (e.g. which likelihood needs [0, 1]).
    """
    if torch.jit.is_tracing():
        return x
    if not isinstance(x, torch.Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor of shape (B, {_fmt(shape)}), "
                                f"got {type(x).__name__}")
    if not x.is_floating_point():
        var = name if name.isidentifier() else "images"
        hint = f"; for 0..255 pixels divide by 255, e.g. {var}.float() / 255" if x.dtype == torch.uint8 \
            else ""
        raise ArgumentTypeError(f"`{name}` must be a floating-point tensor, got dtype {x.dtype}{hint}")
    _check_shape(x, tuple(shape), name, who)
    x = as_model_dtype(x, dtype, name=name, who=who)
    if value_range is None and not finite:
        return x
    _check_values(x, name, value_range, tol, range_hint)
    return x


def as_model_dtype(x: torch.Tensor, dtype: torch.dtype | None, *, name: str = "x",
                   who: str = "the model") -> torch.Tensor:
    """``x`` (a floating tensor) in the model's parameter ``dtype``: the one dtype rule of probgen.

    Converted when that is lossless (a widening: float16/bfloat16 -> float32, float32 -> float64);
    refused with an ``ArgumentTypeError`` naming ``name``, its dtype and the model's when it would round
    (float64 -> float32) or when ``x`` is not floating point. Left alone when ``dtype`` is None or autocast
    is on for ``x``'s device (autocast picks the dtypes then).
    """
    if dtype is None or x.dtype == dtype or torch.is_autocast_enabled(x.device.type):
        return x
    var = name if name.isidentifier() else "x"
    if not x.is_floating_point():
        raise ArgumentTypeError(f"`{name}` must be a floating-point tensor, got dtype {x.dtype} ({who} "
                                f"computes in {dtype}); pass {var}{_cast(dtype)} if the values are meant as "
                                "real numbers")
    if torch.promote_types(x.dtype, dtype) == dtype:  # every x.dtype value is exact in dtype
        return x.to(dtype)
    raise ArgumentTypeError(f"`{name}` has dtype {x.dtype} but {who} computes in {dtype}; converting would "
                            f"round the values, so probgen does not do it silently: pass {var}{_cast(dtype)} "
                            f"(or convert the model with {_cast(x.dtype)})")


def _cast(dtype: torch.dtype) -> str:
    """The shortest spelling of a conversion to ``dtype``: ``.float()``, ``.double()``, ``.to(...)``."""
    names = {torch.float32: ".float()", torch.float64: ".double()", torch.float16: ".half()",
             torch.bfloat16: ".bfloat16()"}
    return names.get(dtype, f".to({dtype})")


def check_latents(z, dim: int, *, dtype: torch.dtype | None = None, name: str = "z", who: str = "the model",
                  batch: int | None = None, leading: bool = False) -> torch.Tensor:
    """Latent codes z for a model with ``dim`` latents: (batch, dim), or (..., dim) with ``leading``.

    Returns them in ``dtype`` (``as_model_dtype``). ``batch`` (None: any) is the number of rows required.
    """
    if torch.jit.is_tracing():
        return z
    want = f"(..., {dim})" if leading else f"({batch if batch is not None else 'B'}, {dim})"
    if not isinstance(z, torch.Tensor):
        raise ArgumentTypeError(f"`{name}` must be a torch.Tensor of shape {want}, got {type(z).__name__}")
    ok = (z.ndim >= 1 and z.shape[-1] == dim) if leading else (z.ndim == 2 and z.shape[1] == dim)
    if ok and batch is not None and not leading:
        ok = z.shape[0] == batch
    if not ok:
        raise ValueError(f"`{name}` has shape {tuple(z.shape)} but {who} takes latent codes of shape {want}")
    return as_model_dtype(z, dtype, name=name, who=who)


def check_steps(t, timesteps: int, batch: int, *, name: str = "t", who: str = "the model") -> torch.Tensor:
    """Diffusion steps t (batch,) in [0, timesteps), integer; an int stands for the whole batch.

    Returns an int64 tensor (on ``t``'s device).
    """
    return _indices(t, timesteps, batch, name=name, who=who, noun="step", unit="steps").long()


def _indices(v, limit: int, batch: int, *, name: str, who: str, noun: str, unit: str) -> torch.Tensor:
    """One integer per image in [0, limit) (labels, diffusion steps): a (batch,) tensor, or an int for all."""
    if isinstance(v, int) and not isinstance(v, bool):
        v = torch.full((batch,), v, dtype=torch.int64)
    what = "class labels" if noun == "label" else "0-based steps"
    if not isinstance(v, torch.Tensor):
        raise ArgumentTypeError(f"`{name}` must be a ({batch},) integer tensor of {what}, got "
                                f"{type(v).__name__}")
    if v.dtype not in _LABEL_DTYPES:
        raise ArgumentTypeError(f"`{name}` must hold integer {what}, got dtype {v.dtype}; use {name}.long()")
    if tuple(v.shape) != (batch,):
        raise ValueError(f"`{name}` has shape {tuple(v.shape)} but the batch has {batch} entries; pass one "
                         f"{noun} per image")
    if batch and not torch.jit.is_tracing():
        lo, hi = (int(x) for x in torch.aminmax(v))
        if lo < 0 or hi >= limit:
            raise ValueError(f"`{name}` holds {noun}s in [{lo}, {hi}] but {who} has {limit} {unit}; {noun}s "
                             f"must lie in [0, {limit})")
    return v


def _check_shape(x: torch.Tensor, shape: tuple[int, ...], name: str, who: str) -> None:
    got = tuple(x.shape)
    if x.ndim == 4 and got[1:] == shape:
        if got[0] == 0:
            raise ValueError(f"`{name}` is an empty batch (shape {got}); pass at least one image")
        return
    if got == shape:
        hint = f"; it is one image without a batch dimension: pass {name}.unsqueeze(0)"
    elif x.ndim == 3 and got[1:] == shape[1:] and shape[0] == 1:
        hint = f"; add the channel axis with {name}.unsqueeze(1)"
    elif x.ndim == 4 and got[1] != shape[0]:
        hint = f"; {who} was built for {shape[0]} channel(s)"
    else:
        hint = ""
    raise ValueError(f"`{name}` has shape {got} but {who} takes images of shape (B, {_fmt(shape)}){hint}")


def _check_values(x: torch.Tensor, name: str, value_range, tol: float, range_hint: str) -> None:
    lo, hi = (float(v) for v in torch.aminmax(x.detach()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); clean the batch first")
    if value_range is None:
        return
    a, b = value_range
    if lo >= a - tol and hi <= b + tol:
        return
    hint = range_hint or _range_fix(lo, hi, a, b, tol, name)
    raise ValueError(f"`{name}` must hold values in [{a:g}, {b:g}], got values in [{lo:.4g}, {hi:.4g}]; "
                     f"{hint}")


def _range_fix(lo: float, hi: float, a: float, b: float, tol: float, name: str) -> str:
    """What probably went wrong, for images expected in [0, 1]."""
    name = name if name.isidentifier() else "images"
    if (a, b) != (0, 1):
        return f"rescale them to [{a:g}, {b:g}]"
    if lo >= -tol and hi > 1.5:
        return f"they look like 0..255 pixels: pass {name} / 255"
    if lo >= -1 - tol and hi <= 1 + tol:
        return f"they look like tanh outputs in [-1, 1]: pass ({name} + 1) / 2"
    return "rescale them to [0, 1]"


def check_labels(y, num_classes: int | None, batch: int, *, name: str = "y",
                 who: str = "this model") -> torch.Tensor | None:
    """Check class labels (B,) in [0, num_classes) for a class-conditional model; None for an
    unconditional one (``num_classes`` None).

    An int stands for a whole batch of that class and becomes a (B,) int64 tensor. Returns the labels (on
    their own device; integer dtypes other than int64 are kept) or None.
    """
    if num_classes is None:
        if y is not None:
            raise ValueError(f"`{name}` (labels) was given but {who} is unconditional (`num_classes`=None); "
                             f"pass {name}=None, or build it with num_classes=K for a class-conditional "
                             "model")
        return None
    if torch.jit.is_tracing():
        return y
    if y is None:
        raise ValueError(f"{who} is class-conditional (`num_classes`={num_classes}) and needs labels: pass "
                         f"`{name}`, a ({batch},) integer tensor of labels in [0, {num_classes})")
    return _indices(y, num_classes, batch, name=name, who=who, noun="label", unit="classes")
