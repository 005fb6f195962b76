"""Training the neural conditionals of a network by SVI on its Pyro program (``BayesNet.fit(method="svi")``).

The network's program (``hybrid_model``) conditioned on a minibatch of rows is the model; nodes without a
data column are latent and need a ``guide`` (for instance an amortised encoder, as in the conditional VAE of
``probgen.bayesnet.hybrid.cvae``). With every node observed the guide is empty and SVI is stochastic
gradient ascent on the log-likelihood. Each ``NeuralCPD``'s module is registered as ``cpd_<node>`` and
trained in place, with Adam on ``Trace_ELBO``; tables and Gaussian conditionals keep their values (fit
those by least squares, ``method="mle"``).
"""

from __future__ import annotations

import math

import pyro
import torch
from pyro.infer import SVI, Trace_ELBO

from probgen.bayesnet.hybrid.evidence import encode_values
from probgen.bayesnet.hybrid.program import hybrid_model
from probgen.checks import check_float, check_int

__all__ = ["fit_svi"]


def _empty_guide(data, num_rows=None) -> None:
    return None


def fit_svi(net, data, guide=None, *, num_steps: int = 1000, batch_size: int = 128, lr: float = 1e-3,
            seed: int | None = None) -> list[float]:
    """Train ``net``'s neural conditionals by SVI; returns the loss of every step (negative ELBO per row).

    Args:
        net: a ``HybridNetwork`` with at least one ``NeuralCPD``.
        data: dict node -> column (or a DataFrame); nodes without a column are latent.
        guide: a callable ``guide(batch)`` with a ``pyro.sample`` site for every latent node under
            ``pyro.plate("rows", N)``; required when some node is latent.
        num_steps, batch_size, lr: SVI steps, rows per step (drawn without replacement, epoch by epoch),
            Adam's learning rate.
        seed: seeds the minibatch order (and Pyro's random numbers) when given.
    """
    num_steps = check_int("num_steps", num_steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    lr = check_float("lr", lr, 0, low_open=True)
    neural = [n for n, c in net.cpds.items() if type(c).__name__ == "NeuralCPD"]
    if not neural:
        raise ValueError("method='svi' trains NeuralCPD modules, and this network has none; use "
                         "method='mle' (least squares and counts)")
    obs = encode_values(net, data, "data")
    latent = [n for n in net.nodes if n not in obs.values]
    if latent and guide is None:
        raise ValueError(f"nodes {latent} have no data column (latent): method='svi' needs a guide with a "
                         "pyro.sample site for each, e.g. an amortised encoder")
    if seed is not None:
        pyro.set_rng_seed(seed)
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    svi = SVI(lambda batch: hybrid_model(net, batch), guide or _empty_guide,
              pyro.optim.Adam({"lr": lr}), Trace_ELBO())
    n_rows = obs.num_rows
    per_epoch = max(1, math.ceil(n_rows / batch_size))
    losses, order = [], None
    for step in range(num_steps):
        if step % per_epoch == 0:
            order = torch.randperm(n_rows, generator=gen)
        idx = order[(step % per_epoch) * batch_size:][:batch_size]
        batch = {n: v[idx] for n, v in obs.values.items()}
        loss = svi.step(batch) / len(idx)
        if not math.isfinite(loss):
            raise ValueError(f"SVI diverged at step {step + 1} (loss {loss}); lower lr (now {lr})")
        losses.append(loss)
    return losses
