"""Linear Gaussian and conditional linear Gaussian (CLG) conditionals.

``GaussianCPD``: ``X | parents ~ Normal(bias + sum_j weights[j] * x_j, variance)`` over the continuous
parents ``x_j``. With discrete parents too, each configuration of the discrete parents has its own
``(bias, weights, variance)`` (Lauritzen 1992, "Propagation of probabilities, means and variances in mixed
graphical association models", JASA 87). Layout, with discrete parents ``d_1..d_k`` of cardinalities
``c_1..c_k`` and ``m`` continuous parents (each group in the order it appears in ``parents``):

    bias      (c_1, ..., c_k)
    weights   (c_1, ..., c_k, m)
    variance  (c_1, ..., c_k)

Arrays broadcast (a scalar variance is shared by every configuration). ``_ConfigCPD`` holds what
``GaussianCPD`` and ``SoftmaxCPD`` share: the split of the parents into discrete and continuous, the
leading configuration axes, and the network's binding of both to the parents' variables.
"""

from __future__ import annotations

import copy
import math

import pyro.distributions as dist
import torch

from probgen.bayesnet.model.variables import (
    CONTINUOUS,
    Variable,
    check_parents,
    config_axes_check,
    discrete_split,
    float64_array,
    parent_value,
    where_name,
)


def take(arr: torch.Tensor, idx: tuple, tail: int = 0) -> torch.Tensor:
    """``arr[idx]`` for an array of shape ``(*config, *tail)`` whose configuration axes may be fewer than
    ``len(idx)`` or of size 1 (broadcast, aligned on the right as in NumPy)."""
    lead = arr.ndim - tail
    if lead == 0:
        return arr
    sub = idx[len(idx) - lead:]
    sub = tuple(i if arr.shape[a] > 1 else torch.zeros_like(i) for a, i in enumerate(sub))
    return arr[sub]


class _ConfigCPD:
    """A conditional whose parameters carry one leading axis per discrete parent (see the module doc).

    Subclasses set ``kind_name`` and ``_tails`` (the trailing shape of each parameter array, by name, with
    ``"m"`` for the number of continuous parents and ``"card"`` for the node's number of states).
    """

    kind_name = "CPD"
    _tails: dict[str, tuple] = {}

    def _setup(self, parents, discrete_parents, arrays: dict[str, torch.Tensor]) -> None:
        where = self.kind_name
        self.parents = check_parents(parents, where)
        self.node: str | None = None
        lead = [a.ndim - len(self._tails[n]) for n, a in arrays.items()]
        if discrete_parents is not None:
            discrete_parents = check_parents(discrete_parents, where)
            extra = [p for p in discrete_parents if p not in self.parents]
            if extra:
                raise ValueError(f"{where}: discrete_parents {extra} are not in parents {self.parents}")
            k = len(discrete_parents)
            discrete_parents = [p for p in self.parents if p in discrete_parents]
        else:
            k = max([0, *lead])
        if k > len(self.parents):
            raise ValueError(f"{where}: the parameters have {k} leading axes (one per discrete parent) but "
                             f"there are only {len(self.parents)} parents {self.parents}")
        self.num_discrete = k
        self.discrete_parents = discrete_parents
        if discrete_parents is None and k in (0, len(self.parents)):
            self.discrete_parents = list(self.parents) if k else []
        self.continuous_parents = (None if self.discrete_parents is None
                                   else [p for p in self.parents if p not in self.discrete_parents])
        self.num_continuous = len(self.parents) - k

    def _check_tail(self, name: str, arr: torch.Tensor) -> None:
        tail = self._resolve_tail(name)
        if arr.ndim < len(tail) or tuple(arr.shape[arr.ndim - len(tail):]) != tail:
            cont = self.continuous_parents if self.continuous_parents is not None else "?"
            raise ValueError(f"{where_name(self.kind_name, self.node)}: `{name}` has shape "
                             f"{tuple(arr.shape)}; "
                             f"its trailing axes must be {tail} ({self.num_continuous} continuous parents "
                             f"{cont} of parents {self.parents}, after one leading axis per discrete "
                             "parent)")
        if arr.ndim - len(tail) > self.num_discrete:
            raise ValueError(f"{where_name(self.kind_name, self.node)}: `{name}` has shape "
                             f"{tuple(arr.shape)}: more leading axes than the {self.num_discrete} discrete "
                             f"parents {self.discrete_parents}")

    def _resolve_tail(self, name: str) -> tuple[int, ...]:
        sizes = {"m": self.num_continuous, "card": getattr(self, "card", 0)}
        return tuple(sizes.get(t, t) for t in self._tails[name])

    # ------------------------------------------------------------------------------------------ binding
    def variable(self) -> Variable:
        """The kind of values of the node this conditional belongs to."""
        raise NotImplementedError

    def bind(self, node: str, parents: dict[str, Variable]) -> _ConfigCPD:
        """A copy checked against (and shaped for) the parents' variables; errors name ``node``.

        Args:
            node: the node's name (for messages).
            parents: parent name -> its ``Variable``.
        """
        out = copy.copy(self)
        out.node = node
        where = where_name(self.kind_name, node)
        disc, cont = discrete_split(self.parents, parents)
        for p in cont:
            if parents[p].event_shape:
                raise ValueError(f"{where}: parent {p!r} is {parents[p].describe()}; a {self.kind_name} "
                                 "needs scalar continuous parents (use a NeuralCPD for array-valued ones)")
        if self.discrete_parents is not None and self.discrete_parents != disc:
            raise ValueError(f"{where}: declared discrete_parents {self.discrete_parents}, but in the "
                             f"network the discrete parents are {disc}")
        if len(disc) != self.num_discrete:
            raise ValueError(f"{where}: the parameters have {self.num_discrete} leading axes (one per "
                             f"discrete parent) but the node's discrete parents are {disc}; give each "
                             "parameter one leading axis per discrete parent, in the order of `parents`")
        out.discrete_parents, out.continuous_parents = disc, cont
        cards = [parents[p].card for p in disc]
        for name in self._tails:
            arr = getattr(self, name)
            setattr(out, name, config_axes_check(arr, cards, name, where, self._resolve_tail(name)))
        return out

    @property
    def bound(self) -> bool:
        return self.continuous_parents is not None

    def _split_values(self, values) -> tuple[tuple, list[torch.Tensor]]:
        """The discrete parents' index tensors and the continuous parents' values."""
        if not self.bound:
            raise ValueError(f"{where_name(self.kind_name, self.node)}: which of the parents "
                             f"{self.parents} are "
                             "discrete is not known yet; pass discrete_parents=[...] or use it in a network")
        idx = tuple(parent_value(values, self.node, p).long() for p in self.discrete_parents)
        xs = [torch.as_tensor(parent_value(values, self.node, p)).to(torch.float64)
              for p in self.continuous_parents]
        return idx, xs

    # -------------------------------------------------------------------------------- shared behaviour
    def log_prob(self, value: torch.Tensor, parents=None) -> torch.Tensor:
        """Log density (or probability) of ``value`` (shape ``batch``) given the parents' values (dict
        parent -> tensor broadcastable to ``batch``: int64 indices for discrete, floats for continuous)."""
        return self.distribution(parents or {}).log_prob(value)

    def sample(self, parents=None, sample_shape: torch.Size | tuple = ()) -> torch.Tensor:
        """A draw of shape ``(*sample_shape, *batch)`` given the parents' values (see ``log_prob``)."""
        return self.distribution(parents or {}).sample(torch.Size(sample_shape))

    def distribution(self, parents) -> dist.Distribution:
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return (type(other) is type(self) and self.parents == other.parents
                and all(torch.equal(getattr(self, n), getattr(other, n)) for n in self._tails)
                and getattr(self, "states", None) == getattr(other, "states", None))

    __hash__ = None  # holds tensors: not hashable


class GaussianCPD(_ConfigCPD):
    """A linear Gaussian (CLG with discrete parents) conditional of a continuous scalar node.

    Args:
        parents: the parents' names. Discrete ones index the leading axes of the parameters; continuous
            ones enter the mean linearly, one weight each (see the module docstring for the layout).
        weights: ``(*discrete_cards, m)``, one weight per continuous parent (may be omitted when m = 0; a
            scalar is accepted for one continuous parent and no discrete one).
        bias: ``(*discrete_cards,)``, the intercept.
        variance: ``(*discrete_cards,)``, the conditional variance (not the standard deviation); > 0.
        discrete_parents: which parents are discrete, when known now (else the network says; needed for
            standalone ``log_prob``/``sample`` when some but not all parents are discrete).

    Raises:
        ValueError: a non-positive or non-finite variance, NaN/inf parameters, weights that do not match
            the parents (the message gives the expected shape).

    Examples:
        >>> cpd = GaussianCPD(parents=["x"], weights=[0.5], bias=1.0, variance=2.0)
        >>> cpd.distribution({"x": torch.tensor([0.0, 2.0])}).mean
        tensor([1., 2.], dtype=torch.float64)
    """

    kind_name = "GaussianCPD"
    _tails = {"bias": (), "weights": ("m",), "variance": ()}

    def __init__(self, parents=None, weights=None, bias=0.0, variance=1.0, *, discrete_parents=None) -> None:
        where = self.kind_name
        self.bias = float64_array(bias, "bias", where)
        self.variance = float64_array(variance, "variance", where)
        w = None if weights is None else float64_array(weights, "weights", where)
        arrays = {"bias": self.bias, "variance": self.variance}
        if w is not None and w.ndim:
            arrays["weights"] = w
        self._setup(parents, discrete_parents, arrays)
        if w is None:
            if self.num_continuous:
                raise ValueError(f"{where}: `weights` is missing; give one weight per continuous parent "
                                 f"({self.num_continuous} of parents {self.parents}); for discrete "
                                 "parents give "
                                 "bias/variance one leading axis each, or pass discrete_parents=[...]")
            w = torch.zeros(0, dtype=torch.float64)
        elif w.ndim == 0:
            w = w.reshape(1)
        self.weights = w
        for name in ("bias", "weights", "variance"):
            self._check_tail(name, getattr(self, name))
        if (self.variance <= 0).any():
            i = tuple(int(j) for j in (self.variance <= 0).nonzero()[0]) if self.variance.ndim else ()
            at = f" at discrete configuration {i}" if i else ""
            raise ValueError(f"{where}: `variance` must be > 0 (it is a variance, not a log or a std), got "
                             f"{self.variance[i].item():g}{at}")

    def variable(self) -> Variable:
        return Variable(CONTINUOUS)

    def distribution(self, parents) -> dist.Normal:
        """``Normal(loc, scale)`` with batch shape the broadcast of the parents' values."""
        idx, xs = self._split_values(parents)
        loc = take(self.bias, idx)  # (*batch,)
        w = take(self.weights, idx, 1)  # (*batch, m)
        for j, x in enumerate(xs):
            loc = loc + w[..., j] * x
        scale = take(self.variance, idx).sqrt()
        return dist.Normal(loc, scale)

    @property
    def num_parameters(self) -> int:
        """Free parameters: ``(m + 2)`` per discrete configuration."""
        return (self.num_continuous + 2) * math.prod(self.bias.shape)

    def __repr__(self) -> str:
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        node = self.node or "X"
        if self.bias.ndim == 0 and self.variance.ndim == 0:
            terms = [f"{self.bias.item():.4g}"] + [
                f"{w:.4g}*{p}" for w, p in zip(self.weights.tolist(), self.continuous_parents or [])]
            return f"GaussianCPD(P({node}{given}) = N({' + '.join(terms)}, {self.variance.item():.4g}))"
        return (f"GaussianCPD(P({node}{given}), CLG with {self.num_discrete} discrete parents, "
                f"bias {tuple(self.bias.shape)}, weights {tuple(self.weights.shape)})")
