"""probgen's fast SVI path: an ELBO and an optimizer wrapper that plain ``pyro.infer.SVI`` accepts.

Where the time of a Pyro SVI step goes on the 784-400-50 MLP VAE (measured with ``bench/vae.py``): the
networks and Adam's arithmetic are the same as in a hand-written PyTorch step; the rest is Python
bookkeeping that grows with the number of sites and parameters, not with the batch:

1. ``Trace_ELBO`` runs guide and model under ``poutine.trace``/``replay``, builds two distribution objects
   per site (validating their arguments), computes ``log_prob`` through them and walks both traces.
2. ``pyro.optim.PyroOptim`` keeps one torch optimizer *per parameter tensor* and calls each one's
   ``step()`` in turn (10 Python-level optimizer steps for the MLP).
3. ``SVI.step`` then zeroes the gradients by allocating ``torch.zeros_like`` for every parameter, and the
   next backward pass adds into those zeros.

:class:`FastTrace_ELBO` (and :class:`FastTraceMeanField_ELBO`, its closed-form-KL twin) removes (1):
for a probgen :class:`~probgen.vae.VAE`'s own ``model``/``guide`` it computes the very estimator
``Trace_ELBO`` builds (z = mu + sigma * eps, log p(x | z) + log p(z) - log q(z | x), summed over the
batch and averaged over particles) directly from the networks, still registering the networks with
``pyro.module`` so that ``SVI`` finds and steps the parameters. For anything else (another model, a
guide of your own, a ``poutine`` handler around the step) it *is* ``Trace_ELBO``.

:class:`JointOptim` removes (2) and (3): one torch optimizer over all parameters, and gradients set to
None after its step, so ``SVI``'s zeroing finds nothing to allocate. Adam's update is elementwise, so one
Adam over all tensors steps exactly as one Adam per tensor does.
"""

from __future__ import annotations

from collections.abc import Callable

import pyro
import torch
from pyro.infer import Trace_ELBO, TraceMeanField_ELBO
from pyro.optim import PyroOptim
from pyro.poutine import runtime
from pyro.poutine.trace_messenger import TraceMessenger
from pyro.util import warn_if_nan

from probgen.vae.checks import check_mask
from probgen.vae.model import VAE


def only_param_capture_active() -> bool:
    """True when no Pyro handler is active except parameter-only traces (SVI's parameter capture).

    Any other handler (condition, scale, mask, a trace of the sample sites, ...) must see the sample
    sites, so the fast ELBOs then take Pyro's traced path. Pyro has no public API that lists the active
    handlers (``pyro.poutine.runtime.am_i_wrapped()`` only says whether there is one, and SVI always wraps
    the loss in one), so this function is the one place that reads Pyro's private handler stack,
    ``pyro.poutine.runtime._PYRO_STACK`` (a list of Messenger objects, innermost last; Pyro 1.8-1.9).
    If a Pyro release moves it, the fast path switches itself off (correct, only slower) and
    tests/vae/test_fast_handlers.py fails so that the change is noticed.
    """
    if not runtime.am_i_wrapped():
        return True
    stack = getattr(runtime, "_PYRO_STACK", None)
    if not isinstance(stack, list):
        return False
    return all(isinstance(m, TraceMessenger) and m.param_only for m in stack)


class _FastVAEPath:
    """The direct path shared by the fast ELBOs; ``analytic_kl`` picks the estimator."""

    analytic_kl = False

    def _fast_target(self, model, guide, args, kwargs):
        vae = getattr(model, "__self__", None)
        if not isinstance(vae, VAE) or getattr(guide, "__self__", None) is not vae:
            return None
        if getattr(model, "__func__", None) is not VAE.model or \
                getattr(guide, "__func__", None) is not VAE.guide:
            return None  # a subclass with its own model or guide
        if not only_param_capture_active():
            return None
        x = args[0] if args else kwargs.get("x")
        if x is None or len(args) > 2 or set(kwargs) - {"x", "y", "mask", "batch_size"}:
            return None
        return vae

    def _fast_elbo(self, vae, args, kwargs) -> torch.Tensor:
        """The batch's ELBO (a scalar), differentiable; registers the networks with pyro.module."""
        x = args[0] if args else kwargs.get("x")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        x, y1h, _ = vae.prepare_inputs(x, y, kwargs.get("batch_size"))
        mask = kwargs.get("mask")
        if mask is not None:
            mask = check_mask(mask, x)
        vae.register_params()
        return vae.elbo_terms(x, y1h, self.num_particles, mask, analytic_kl=self.analytic_kl, reduce=True)

    def loss(self, model, guide, *args, **kwargs):
        vae = self._fast_target(model, guide, args, kwargs)
        if vae is None:
            return super().loss(model, guide, *args, **kwargs)
        with torch.no_grad():
            loss = -self._fast_elbo(vae, args, kwargs).item()
        warn_if_nan(loss, "loss")
        return loss

    def differentiable_loss(self, model, guide, *args, **kwargs):
        vae = self._fast_target(model, guide, args, kwargs)
        if vae is None:
            return super().differentiable_loss(model, guide, *args, **kwargs)
        loss = -self._fast_elbo(vae, args, kwargs)
        warn_if_nan(loss, "loss")
        return loss

    def loss_and_grads(self, model, guide, *args, **kwargs):
        vae = self._fast_target(model, guide, args, kwargs)
        if vae is None:
            return super().loss_and_grads(model, guide, *args, **kwargs)
        loss = -self._fast_elbo(vae, args, kwargs)
        loss.backward(retain_graph=self.retain_graph)
        loss = loss.item()
        warn_if_nan(loss, "loss")
        return loss


class FastTrace_ELBO(_FastVAEPath, Trace_ELBO):
    """``Trace_ELBO`` with a direct path for probgen VAEs (same estimator, same value, same gradients).

    Use it wherever ``Trace_ELBO`` goes: ``SVI(vae.model, vae.guide, optim, FastTrace_ELBO())``.
    ``num_particles`` draws are always vectorised (the estimator of ``vectorize_particles=True``).
    """


class FastTraceMeanField_ELBO(_FastVAEPath, TraceMeanField_ELBO):
    """``TraceMeanField_ELBO`` (closed-form KL(q || p)) with the same direct path for probgen VAEs.

    The estimator E_q[log p(x | z)] - KL(q(z | x) || N(0, I)) with one draw of z per particle, as Pyro
    computes it for this model/guide pair; elsewhere it is ``TraceMeanField_ELBO``.
    """

    analytic_kl = True


class JointOptim(PyroOptim):
    """A ``pyro.optim`` optimizer that steps every parameter with *one* torch optimizer.

    Drop-in for ``pyro.optim.Adam({"lr": 1e-3})`` in ``SVI``: ``JointOptim(torch.optim.Adam, {"lr": 1e-3})``
    or :meth:`adam`. Parameters are added (sorted by their param-store name) the first time SVI passes
    them. After each step the gradients are set to None. ``grad_hook(params)`` runs before each step (e.g.
    :meth:`probgen.distributed.DistContext.average_gradients` for multi-process training).

    Not supported (use ``pyro.optim`` there): per-parameter ``optim_args`` callables, gradient clipping
    arguments and learning-rate schedulers. :meth:`get_state`/:meth:`set_state` use their own format
    ``{"names": [...], "optimizer": torch_state_dict}``.
    """

    def __init__(self, optim_constructor, optim_args: dict, *,
                 grad_hook: Callable[[list[torch.Tensor]], None] | None = None) -> None:
        if not isinstance(optim_args, dict):
            raise TypeError(f"JointOptim takes a dict of optimizer arguments, got "
                            f"{type(optim_args).__name__}; for per-parameter arguments use "
                            "pyro.optim.PyroOptim")
        super().__init__(optim_constructor, optim_args)
        self.optimizer: torch.optim.Optimizer | None = None
        self.grad_hook = grad_hook
        self._params: list[torch.Tensor] = []
        self._names: list[str] = []
        self._known: set[torch.Tensor] = set()
        self._pending: dict | None = None

    @classmethod
    def adam(cls, lr: float = 1e-3, **kwargs) -> JointOptim:
        """``JointOptim(torch.optim.Adam, {"lr": lr, **kwargs})``."""
        return cls(torch.optim.Adam, {"lr": lr, **kwargs})

    def __call__(self, params, *args, **kwargs) -> None:
        params = list(params)
        new = [p for p in params if p not in self._known]
        if new:
            self._add(new)
        if self.optimizer is None:  # nothing to optimise yet
            return
        if self.grad_hook is not None:
            self.grad_hook(self._params)
        self.optimizer.step(*args, **kwargs)
        for p in params:
            p.grad = None  # SVI's zero_grads then allocates nothing

    def _add(self, new: list[torch.Tensor]) -> None:
        store = pyro.get_param_store()
        named = sorted(((store.param_name(p), p) for p in new), key=lambda t: t[0])
        group = [p for _, p in named]
        if self.optimizer is None:
            self.optimizer = self.pt_optim_constructor(group, **self.pt_optim_args)
        else:
            self.optimizer.add_param_group({"params": group})
        self._params += group
        self._names += [n for n, _ in named]
        self._known.update(group)
        if self._pending is not None and len(self._pending["names"]) <= len(self._names):
            self._load_pending()

    def _load_pending(self) -> None:
        state, self._pending = self._pending, None
        if list(state["names"]) != self._names:
            raise ValueError(f"the optimizer state was saved for parameters {list(state['names'])[:4]}... "
                             f"but this run has {self._names[:4]}...; resume with the same model")
        self.optimizer.load_state_dict(state["optimizer"])

    def get_state(self) -> dict:
        """``{"names": [param-store names in order], "optimizer": torch optimizer state_dict}``."""
        if self.optimizer is None:
            return {"names": [], "optimizer": {}}
        return {"names": list(self._names), "optimizer": self.optimizer.state_dict()}

    def set_state(self, state_dict: dict) -> None:
        """Restore :meth:`get_state`'s output (applied when the same parameters are next stepped)."""
        if not state_dict.get("names"):
            return
        self._pending = state_dict
        if self.optimizer is not None and len(self._names) >= len(state_dict["names"]):
            self._load_pending()

    def __repr__(self) -> str:
        return (f"JointOptim({getattr(self.pt_optim_constructor, '__name__', self.pt_optim_constructor)}, "
                f"{self.pt_optim_args}, params={len(self._params)})")
