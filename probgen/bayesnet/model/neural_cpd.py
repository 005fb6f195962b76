"""A conditional parameterised by any torch module: parent values in, a distribution's parameters out.

``NeuralCPD(module, distribution, parents=[...], event_shape=...)``: the module maps the parents' values
to the parameters of ``distribution`` (a Pyro/torch distribution class or any callable returning one).
Two ways of feeding the module:

- ``parent_encoding="onehot"`` (default): one float tensor ``(B, D)``, the parents concatenated in the
  order of ``parents``: a discrete parent as a one-hot vector of its ``card`` states, a continuous one
  flattened (``prod(event_shape)`` entries).
- ``parent_encoding="raw"``: ``module(*values)`` with each parent as is, a discrete parent as int64
  indices ``(B,)`` (for an ``nn.Embedding``), a continuous one as ``(B, *event_shape)``.

The module's output is passed to ``distribution``: a tuple as positional arguments, a dict as keywords,
a tensor as the one argument (wrap it, e.g. ``lambda logits: dist.Bernoulli(logits=logits)``). A
distribution whose batch shape ends in ``event_shape`` is made an event with ``to_event``. The network
runs one dummy forward when it binds the conditional, so a module returning the wrong shape is an error
naming the node before any training. Values of any batch shape are flattened to ``(B, ...)`` for the
module and the parameters are reshaped back, so convolutional modules see plain batches.
"""

from __future__ import annotations

import copy
import math

import pyro.distributions as dist
import torch
from torch import nn

from probgen.bayesnet.model.variables import (
    CONTINUOUS,
    DISCRETE,
    Variable,
    check_parents,
    check_states,
    parent_value,
)
from probgen.checks import check_choice

ENCODINGS = ("onehot", "raw")


class NeuralCPD:
    """A node's conditional given by a torch module and a distribution family.

    Args:
        module: an ``nn.Module`` mapping the encoded parents to the distribution's parameters.
        distribution: a distribution class or a callable ``params -> Distribution``.
        parents: the parents' names.
        event_shape: the shape of one value of the node (``(1, 28, 28)`` for an image; ``()`` a scalar).
        states: the state names when the node is discrete (the distribution must be over ``0..card-1``,
            e.g. ``Categorical``); None for a continuous (or array-valued) node.
        parent_encoding: ``"onehot"`` or ``"raw"`` (see the module docstring).
    """

    kind_name = "NeuralCPD"

    def __init__(self, module: nn.Module, distribution, parents=None, event_shape=(), *, states=None,
                 parent_encoding: str = "onehot") -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"NeuralCPD: `module` must be a torch nn.Module, got {type(module).__name__}")
        if not callable(distribution):
            raise TypeError(f"NeuralCPD: `distribution` must be a distribution class or a callable returning "
                            f"one, got {distribution!r}")
        self.module = module
        self.distribution_fn = distribution
        self.parents = check_parents(parents, "NeuralCPD")
        try:
            self.event_shape = tuple(int(s) for s in event_shape)
        except TypeError:
            raise TypeError(f"NeuralCPD: `event_shape` must be a tuple of ints, got "
                            f"{event_shape!r}") from None
        self.states = None if states is None else check_states(states, "NeuralCPD")
        if self.states is not None and self.event_shape:
            raise ValueError(f"NeuralCPD: a discrete node (states={self.states}) has event_shape (), got "
                             f"{self.event_shape}")
        self.parent_encoding = check_choice("parent_encoding", parent_encoding, ENCODINGS)
        self.node: str | None = None
        self.parent_vars: dict[str, Variable] | None = None

    def variable(self) -> Variable:
        if self.states is not None:
            return Variable(DISCRETE, tuple(self.states))
        return Variable(CONTINUOUS, (), self.event_shape)

    @property
    def card(self) -> int:
        return len(self.states) if self.states is not None else 0

    def bind(self, node: str, parents: dict[str, Variable]) -> NeuralCPD:
        """A copy that knows its parents' variables, after one dummy forward (batch of 2) whose
        distribution must have batch shape ``(2,)`` and event shape ``event_shape``."""
        out = copy.copy(self)
        out.node = node
        out.parent_vars = {p: parents[p] for p in self.parents}
        dummy = {}
        for p, v in out.parent_vars.items():
            dummy[p] = (torch.zeros(2, dtype=torch.long) if v.discrete
                        else torch.zeros((2, *v.event_shape), dtype=out._dtype()))
        try:
            with torch.no_grad():
                d = out.distribution(dummy)
        except Exception as e:  # the user's module failing on a well-formed input: say which node
            raise ValueError(f"NeuralCPD of {node!r}: one dummy forward (2 rows of parent values "
                             f"{out._input_text()}) failed: {type(e).__name__}: {e}") from e
        out._check_output(d)
        return out

    def _check_output(self, d) -> None:
        where = f"NeuralCPD of {self.node!r}"
        if not isinstance(d, torch.distributions.Distribution):
            raise TypeError(f"{where}: `distribution` returned {type(d).__name__}, not a torch distribution")
        got = (tuple(d.batch_shape), tuple(d.event_shape))
        batch = (2,) if self.parents else ()
        if got != (batch, self.event_shape):
            rows = "2 rows of parent values" if self.parents else "a root (no parents)"
            raise ValueError(f"{where}: for {rows} the module's distribution has batch shape {got[0]} and "
                             f"event shape {got[1]}; expected batch {batch} and event shape "
                             f"{self.event_shape} "
                             "(check the module's output size against event_shape)")
        if self.states is not None:
            upper = getattr(d.support, "upper_bound", None)
            if not d.support.is_discrete or upper is None or int(upper) != self.card - 1:
                raise ValueError(f"{where}: a discrete node with {self.card} states needs a "
                                 f"distribution over 0..{self.card - 1} (e.g. Categorical with "
                                 f"{self.card} logits); got support "
                                 f"{d.support}")

    def _dtype(self) -> torch.dtype:
        for t in self.module.parameters():
            return t.dtype
        return torch.get_default_dtype()

    def _input_text(self) -> str:
        return ", ".join(f"{p}: {v.describe()}" for p, v in (self.parent_vars or {}).items()) or "none"

    def _inputs(self, values) -> tuple[list[torch.Tensor], torch.Size]:
        """The module's inputs, flattened to ``(B, ...)``, and the batch shape of the parents' values."""
        vals = {p: torch.as_tensor(parent_value(values, self.node, p)) for p in self.parents}
        batches = []
        for p, v in vals.items():
            ev = self.parent_vars[p].event_shape
            batches.append(v.shape[: v.ndim - len(ev)])
        batch = torch.broadcast_shapes(*batches) if batches else torch.Size()
        dtype, flat = self._dtype(), max(1, math.prod(batch))
        inputs = []
        for p, v in vals.items():
            var = self.parent_vars[p]
            v = v.expand(*batch, *var.event_shape).reshape(flat, *var.event_shape)
            if self.parent_encoding == "raw":
                inputs.append(v.long() if var.discrete else v.to(dtype))
            elif var.discrete:
                inputs.append(nn.functional.one_hot(v.long(), var.card).to(dtype))
            else:
                inputs.append(v.to(dtype).reshape(flat, -1))
        if self.parent_encoding == "onehot":
            inputs = [torch.cat(inputs, -1) if inputs else torch.zeros(flat, 0, dtype=dtype)]
        return inputs, batch

    def distribution(self, parents) -> dist.Distribution:
        """The node's distribution given the parents' values: batch shape = their broadcast batch shape."""
        if self.parent_vars is None:
            raise ValueError(f"NeuralCPD{'' if self.node is None else f' of {self.node!r}'}: use it in a "
                             "network first (it needs its parents' kinds to encode them)")
        inputs, batch = self._inputs(parents or {})
        out = self.module(*inputs)
        out = _unflatten(out, batch)
        if isinstance(out, tuple | list):
            d = self.distribution_fn(*out)
        elif isinstance(out, dict):
            d = self.distribution_fn(**out)
        else:
            d = self.distribution_fn(out)
        n_ev = len(self.event_shape)
        if n_ev and isinstance(d, torch.distributions.Distribution) and not d.event_shape \
                and tuple(d.batch_shape[-n_ev:]) == self.event_shape:
            d = dist.Independent(d, n_ev) if not hasattr(d, "to_event") else d.to_event(n_ev)
        return d

    def log_prob(self, value: torch.Tensor, parents=None) -> torch.Tensor:
        """Log density of ``value`` ``(*batch, *event_shape)`` given the parents' values."""
        return self.distribution(parents).log_prob(value)

    def sample(self, parents=None, sample_shape=()) -> torch.Tensor:
        """A draw ``(*sample_shape, *batch, *event_shape)`` given the parents' values."""
        return self.distribution(parents).sample(torch.Size(sample_shape))

    def __repr__(self) -> str:
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        what = f"states={self.states}" if self.states is not None else f"event_shape={self.event_shape}"
        return f"NeuralCPD(P({self.node or 'X'}{given}), {type(self.module).__name__}, {what})"


def _unflatten(out, batch: torch.Size):
    """Reshape every tensor of the module's output from ``(B, ...)`` back to ``(*batch, ...)``."""
    if isinstance(out, torch.Tensor):
        return out.reshape(tuple(batch) + tuple(out.shape[1:]))
    if isinstance(out, tuple | list):
        return type(out)(_unflatten(o, batch) for o in out)
    if isinstance(out, dict):
        return {k: _unflatten(v, batch) for k, v in out.items()}
    return out
