"""Point-mass conditionals for the do-operator (``BayesNet.intervene``) on any kind of node."""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch import nn

from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.neural_cpd import NeuralCPD

__all__ = ["PointMassCPD", "point_mass"]


class Constant(nn.Module):
    """Returns its value (one row per input row); the module of a point-mass ``NeuralCPD``."""

    def __init__(self, value: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("value", value.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value.expand(len(x), *self.value.shape)


def _delta(event_dims: int):
    def make(value: torch.Tensor) -> dist.Delta:
        return dist.Delta(value, event_dim=event_dims)

    return make


class PointMassCPD(NeuralCPD):
    """A continuous node fixed at ``value`` (a ``Delta``), left by ``intervene``. Exact Gaussian and CLG
    inference read ``value`` and treat the node as observed (``probgen.bayesnet.hybrid.query``)."""

    kind_name = "PointMassCPD"

    def __init__(self, value: torch.Tensor) -> None:
        self.value = value.detach().clone()
        shape = tuple(self.value.shape)
        super().__init__(Constant(self.value), _delta(len(shape)), event_shape=shape)

    def __repr__(self) -> str:
        v = self.value.item() if self.value.numel() == 1 else f"an array {tuple(self.value.shape)}"
        return f"PointMassCPD({self.node or 'X'} = {v})"


def point_mass(cpd, variable, value: torch.Tensor):
    """A parentless conditional fixing the node at ``value`` (an int64 state index of a discrete node, a
    float tensor of a continuous node's event shape)."""
    if variable.discrete:
        states = list(variable.states)
        if isinstance(cpd, TabularCPD):
            return cpd.point_mass(states[int(value)])
        probs = torch.zeros(len(states), dtype=torch.float64)
        probs[int(value)] = 1.0
        return TabularCPD(states, probs)
    return PointMassCPD(value.reshape(tuple(variable.event_shape)))
