"""A discrete node with continuous parents through a multinomial-logistic (softmax) link.

``P(X = s | parents) = softmax_s(bias[s] + sum_j weights[s, j] * x_j)`` over the continuous parents
``x_j``; with discrete parents too, each of their configurations has its own ``(bias, weights)``
(Koller and Friedman, Probabilistic Graphical Models, 2009, section 5.5.3). Layout, with discrete parents
of cardinalities ``c_1..c_k``, ``m`` continuous parents and ``card`` states:

    bias      (c_1, ..., c_k, card)
    weights   (c_1, ..., c_k, card, m)
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch

from probgen.bayesnet.model.gaussian_cpd import _ConfigCPD, take
from probgen.bayesnet.model.variables import DISCRETE, Variable, check_states, float64_array


class SoftmaxCPD(_ConfigCPD):
    """A discrete conditional whose logits are linear in the continuous parents.

    Args:
        states: the node's state names (unique str or int).
        parents: the parents' names (discrete ones index the leading axes, continuous ones enter the logits).
        weights: ``(*discrete_cards, card, m)``; may be omitted when there is no continuous parent.
        bias: ``(*discrete_cards, card)``; default zeros (uniform when the weights vanish).
        discrete_parents: which parents are discrete, when known now (else the network says).

    Examples:
        >>> cpd = SoftmaxCPD(["low", "high"], parents=["x"], weights=[[0.0], [2.0]])
        >>> cpd.distribution({"x": torch.tensor([0.0])}).probs
        tensor([[0.5000, 0.5000]], dtype=torch.float64)
    """

    kind_name = "SoftmaxCPD"
    _tails = {"bias": ("card",), "weights": ("card", "m")}

    def __init__(self, states, parents=None, weights=None, bias=None, *, discrete_parents=None) -> None:
        where = self.kind_name
        self.states = check_states(states, where)
        self.card = len(self.states)
        self.bias = (torch.zeros(self.card, dtype=torch.float64) if bias is None
                     else float64_array(bias, "bias", where))
        w = None if weights is None else float64_array(weights, "weights", where)
        arrays = {"bias": self.bias} if w is None else {"bias": self.bias, "weights": w}
        self._setup(parents, discrete_parents, arrays)
        if w is None:
            if self.num_continuous:
                raise ValueError(f"{where}: `weights` is missing; give (card={self.card}, "
                                 f"m={self.num_continuous}) weights per discrete configuration")
            w = torch.zeros(self.card, 0, dtype=torch.float64)
        self.weights = w
        for name in self._tails:
            self._check_tail(name, getattr(self, name))

    def variable(self) -> Variable:
        return Variable(DISCRETE, tuple(self.states))

    def logits(self, parents) -> torch.Tensor:
        """Unnormalised log-probabilities ``(*batch, card)``."""
        idx, xs = self._split_values(parents)
        logits = take(self.bias, idx, 1)  # (*batch, card)
        w = take(self.weights, idx, 2)  # (*batch, card, m)
        for j, x in enumerate(xs):
            logits = logits + w[..., j] * torch.as_tensor(x).unsqueeze(-1)
        return logits

    def distribution(self, parents) -> dist.Categorical:
        """``Categorical(logits)`` with batch shape the broadcast of the parents' values."""
        return dist.Categorical(logits=self.logits(parents))

    def index(self, state) -> int:
        """Position of ``state`` (a name) in ``states``."""
        return self.states.index(state)

    @property
    def num_parameters(self) -> int:
        """Free parameters: ``(card - 1) * (m + 1)`` per discrete configuration."""
        return (self.card - 1) * (self.num_continuous + 1) * math.prod(self.bias.shape[:-1])

    def __repr__(self) -> str:
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        return f"SoftmaxCPD(P({self.node or 'X'}{given}), states={self.states})"
