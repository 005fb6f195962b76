"""vae/fast.py's handler check, the one place that reads Pyro's private handler stack.

These tests fail if a Pyro release moves or reshapes ``pyro.poutine.runtime._PYRO_STACK``: the fast ELBOs
would then quietly take Pyro's traced path (correct, slower), which should be noticed and fixed.
"""

import pyro.poutine as poutine
import pytest
import torch
from pyro.infer import SVI, Trace_ELBO
from pyro.poutine import runtime

from probgen.vae import VAE, FastTrace_ELBO, JointOptim
from probgen.vae.fast import only_param_capture_active


def test_pyro_still_keeps_its_handler_stack_where_fast_py_reads_it():
    assert isinstance(getattr(runtime, "_PYRO_STACK", None), list)
    with poutine.trace(param_only=True) as capture:
        assert runtime._PYRO_STACK[-1] is capture


def test_no_handler_and_param_capture_count_as_unwrapped():
    assert only_param_capture_active()
    with poutine.trace(param_only=True), poutine.trace(param_only=True):
        assert only_param_capture_active()


@pytest.mark.parametrize("handler", [
    lambda: poutine.trace(),
    lambda: poutine.scale(scale=2.0),
    lambda: poutine.condition(data={"z": torch.zeros(1)}),
    lambda: poutine.mask(mask=False),
    lambda: poutine.block(),
], ids=["trace", "scale", "condition", "mask", "block"])
def test_any_other_handler_is_seen(handler):
    with handler():
        assert not only_param_capture_active()
    with poutine.trace(param_only=True), handler():  # also under SVI's parameter capture
        assert not only_param_capture_active()


def test_svi_takes_the_fast_path(monkeypatch):
    """Under plain SVI the fast ELBO never reaches Trace_ELBO's traced code."""

    def traced(*args, **kwargs):
        raise AssertionError("FastTrace_ELBO took Trace_ELBO's traced path under plain SVI")

    monkeypatch.setattr(Trace_ELBO, "loss_and_grads", traced)
    vae = VAE(x_shape=(1, 8, 8), z_dim=3, hidden=16)
    svi = SVI(vae.model, vae.guide, JointOptim.adam(1e-3), FastTrace_ELBO())
    loss = svi.step(torch.bernoulli(torch.rand(6, 1, 8, 8)))
    assert loss > 0
