"""``complete``: posterior samples p(x | A(x) + noise = y) from a VAE, a GAN or a DDPM, in one call."""

from __future__ import annotations

import difflib
from contextlib import nullcontext

import torch

from probgen.checks import ArgumentTypeError, check_bool, check_choice, check_float, check_int
from probgen.checks_torch import check_labels
from probgen.editing.operators import Mask, check_observation
from probgen.errors import ProbgenError
from probgen.training.loop import eval_mode, fixed_rng

METHODS: dict[str, tuple[str, ...]] = {
    "vae": ("is", "svi", "nuts"),
    "gan": ("svi", "nuts"),
    "ddpm": ("dps", "ddnm", "repaint"),
}
OPTIONS: dict[str, tuple[str, ...]] = {  # the keyword options of each method
    "is": ("proposals", "rounds", "chunk_size"),
    "svi": ("steps", "lr", "particles", "guide", "init_loc", "init_scale", "restarts"),
    "nuts": ("warmup_steps", "max_tree_depth", "target_accept_prob"),
    "dps": ("steps", "dps_step", "prior_var", "zeta", "guidance_scale"),
    "ddnm": ("steps",),
    "repaint": ("steps", "resample"),
}
_NOISELESS = ("ddnm", "repaint")  # methods that model y = A(x) exactly (sigma_y = 0 only)
_NEED_NOISE = {"gan": 0.05}  # default sigma_y where the observation must be noisy


def family(model) -> str:
    """``"vae"``, ``"gan"`` or ``"ddpm"``; a TypeError naming ``model`` for anything else."""
    from probgen.diffusion.model import DDPM
    from probgen.gan.model import GAN
    from probgen.vae.model import VAE

    if isinstance(model, VAE):
        return "vae"
    if isinstance(model, DDPM):
        return "ddpm"
    if isinstance(model, GAN) or all(hasattr(model, a) for a in ("latent_dim", "channels", "image_size")):
        return "gan"
    raise ArgumentTypeError(f"`model` must be a probgen VAE, GAN (or GAN generator) or DDPM, got "
                            f"{type(model).__name__}; load one with VAE.load, GAN.load or DDPM.load")


def image_shape(model, fam: str | None = None) -> tuple[int, int, int]:
    """The (C, H, W) of the images a VAE, GAN (or GAN generator) or DDPM makes; ``fam``: its
    ``family`` when known."""
    if (fam or family(model)) == "gan":
        from probgen.editing import gan

        return gan.image_shape(model)
    return tuple(int(s) for s in model.x_shape)


def _method(fam: str, method, op, sigma_y) -> str:
    if method is None:
        if fam != "ddpm":
            return METHODS[fam][0]
        if sigma_y:
            return "dps"
        return "repaint" if isinstance(op, Mask) else "ddnm"
    check_choice("method", method, METHODS[fam])
    return method


def _sigma(fam: str, method: str, sigma_y) -> float:
    if sigma_y is None:
        return _NEED_NOISE.get(fam, 0.0)
    sigma_y = check_float("sigma_y", sigma_y, 0.0)
    if method in _NOISELESS and sigma_y > 0:
        raise ProbgenError(f"method={method!r} models a noiseless observation but `sigma_y`={sigma_y}; pass "
                           "sigma_y=0, or method='dps' for a noisy one")
    if fam == "gan" and sigma_y == 0:
        raise ProbgenError("`sigma_y`=0 cannot condition a GAN (its program has no likelihood: the "
                           "observation's noise is the only one); pass sigma_y > 0, e.g. 0.05")
    return sigma_y


def complete(model, y: torch.Tensor, operator, num_samples: int = 8, method: str | None = None,
             sigma_y: float | None = None, seed: int | None = None, *, labels: torch.Tensor | None = None,
             keep_observed: bool = True, return_info: bool = False, **kw):
    """Posterior samples of the images behind observations ``y`` = operator(x) + N(0, sigma_y^2).

    Args:
        model: a ``probgen.vae.VAE``, a ``probgen.gan.GAN`` (or a generator module with ``latent_dim``,
            ``channels``, ``image_size``) or a ``probgen.diffusion.DDPM``.
        y: observations (B, *operator.shape_out(image shape)), pixels in [0, 1] scale. They are first
            projected onto the operator's range, y <- A A^+ y (a masked image's unobserved pixels are
            ignored).
        operator: a ``probgen.editing`` operator (``Mask``, ``Downsample``, ``Grayscale``, compositions),
            e.g. ``task_operator("inpaint-center", (1, 28, 28))``.
        num_samples: completions per image.
        method: VAE ``"is"`` (default; importance sampling with the encoder as proposal), ``"svi"``,
            ``"nuts"``; GAN ``"svi"`` (default) or ``"nuts"``; DDPM ``"dps"``, ``"ddnm"`` or ``"repaint"``
            (default: ``"repaint"`` for masks, ``"ddnm"`` for other operators, ``"dps"`` when sigma_y > 0).
            See docs/editing.md and the modules ``probgen.editing.{vae, gan, latent, diffusion}``.
        sigma_y: observation noise s.d. in pixel units; None: 0, except for a GAN (0.05, it needs > 0).
            ``"ddnm"`` and ``"repaint"`` need 0.
        seed: run on torch's random stream seeded with it (the global stream is left as it was); None:
            the current stream.
        labels: (B,) classes for a class-conditional model (its posterior given the class); None for an
            unconditional one. Conditional generation is ``complete`` with a mask that observes nothing.
        keep_observed: for a ``Mask``, set the observed pixels of each completion to y.
        return_info: also return a dict of diagnostics (``ess`` (B,) for "is", ``final_loss`` for "svi",
            ``step_size``/``warmup_acceptance`` for "nuts", ``steps`` for the DDPM).
        **kw: the method's options: "is" ``proposals`` (1000), ``rounds`` (5), ``chunk_size``; "svi"
            ``steps`` (500), ``lr`` (0.05; GAN 0.01), ``particles`` (4), ``guide`` ("mvn" or "diag"),
            ``restarts`` (VAE 1, GAN 4); "nuts" ``warmup_steps`` (200), ``max_tree_depth`` (6),
            ``target_accept_prob``;
            DDPM ``steps`` (reverse steps; None: all T), "dps" ``dps_step`` ("score"/"chung"), ``prior_var``,
            ``zeta``, ``guidance_scale``; "repaint" ``resample`` (5). ``OPTIONS`` lists them per method.

    Returns:
        completions (num_samples, B, C, H, W) in [0, 1] (and the info dict with ``return_info``).

    Raises:
        ValueError: (a ``ProbgenError``) naming the argument: a method the family lacks, y of the wrong
            shape for the operator, an operator that does not fit the images, labels for an unconditional
            model (or none for a conditional VAE), a noise level the method cannot use.
        TypeError: a model of no family, or an argument of the wrong type.
    """
    fam = family(model)
    shape = image_shape(model, fam)
    y = check_observation(operator, y, shape)
    num_samples = check_int("num_samples", num_samples, 1)
    keep_observed, return_info = check_bool("keep_observed", keep_observed), check_bool("return_info",
                                                                                         return_info)
    method = _method(fam, method, operator, sigma_y)
    sigma = _sigma(fam, method, sigma_y)
    for key in kw:
        close = difflib.get_close_matches(key, OPTIONS[method], n=1)
        if key not in OPTIONS[method]:
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ArgumentTypeError(f"method={method!r} has no option `{key}`; its options are "
                                    f"{list(OPTIONS[method])}{hint}")
    if method == "ddnm" and not operator.linear:
        raise ProbgenError(f"method='ddnm' needs a linear `operator` with a pseudo-inverse, got {operator!r}")
    seed = None if seed is None else check_int("seed", seed, 0)
    device = _param(model).device
    labels = check_labels(labels, model.num_classes, len(y), name="labels", who=f"this {fam.upper()}")
    labels = None if labels is None else labels.to(device)
    y = y.to(device, _param(model).dtype)
    if operator.linear:
        y = operator.apply(operator.pinv(y))
    info: dict = {"method": method, "sigma_y": sigma}
    ctx = fixed_rng(seed, device) if seed is not None else nullcontext()
    with ctx, torch.no_grad():
        x = _run(model, fam, y, operator, sigma, labels, num_samples, method, info, kw)
    x = x.clamp(0, 1)
    if keep_observed and isinstance(operator, Mask):
        x = torch.where(operator.observed(shape).to(device), y, x)
    return (x, info) if return_info else x


def _run(model, fam, y, op, sigma, labels, num_samples, method, info, kw) -> torch.Tensor:
    if fam == "ddpm":
        from probgen.editing.diffusion import sample_x
        return (sample_x(model, y, op, sigma, labels, num_samples, method, info=info, **kw) + 1) / 2
    if fam == "vae":
        from probgen.editing import vae as fam_mod
        cond = model._one_hot(labels)
        net = model
    else:
        from probgen.editing import gan as fam_mod
        cond, net = labels, fam_mod.generator_of(model)
    with eval_mode(net):
        z = fam_mod.sample_z(model, y, op, sigma, cond, num_samples, method, info, **kw)
        return fam_mod.problem(model, y, op, sigma, cond).decode(z)


def _param(model):
    return next(model.parameters())


