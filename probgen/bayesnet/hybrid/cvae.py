"""A conditional VAE written as a three-node hybrid Bayesian network: y (class) -> x <- z (style).

    y ~ Categorical(1/K, ..., 1/K)                TabularCPD
    z ~ N(0, I)                                   NeuralCPD (a module without parameters: the prior)
    x | y, z ~ Bernoulli(logits = decoder(z, y))  NeuralCPD, event shape (C, H, W)

with an amortised guide q(z | x, y) = N(encoder(x, y)), trained by SVI (``Trace_ELBO``) on the network's
Pyro program (Kingma, Rezende, Mohamed and Welling, "Semi-supervised learning with deep generative models",
NeurIPS 2014; Sohn, Lee and Yan, NeurIPS 2015). Evidence on ``y`` then draws digits of a chosen class.
The encoder and decoder are any modules with the signatures of ``probgen.vae``'s networks
(``encoder(x, onehot_y) -> (loc, scale)``, ``decoder(z, onehot_y) -> logits (B, C, H, W)``), so the network
and ``probgen.vae.VAE(num_classes=K)`` can be given the very same networks and compared.
"""

from __future__ import annotations

import networkx as nx
import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import nn

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid.network import HybridNetwork
from probgen.bayesnet.hybrid.program import hybrid_model
from probgen.bayesnet.model.neural_cpd import NeuralCPD

__all__ = ["CVAEGuide", "cvae_graph", "cvae_network", "elbo_given_class", "sample_class"]


class StandardNormalLoc(nn.Module):
    """The prior's location: zeros ``(B, z_dim)`` whatever the (empty) input ``(B, 0)``."""

    def __init__(self, z_dim: int) -> None:
        super().__init__()
        self.z_dim = z_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(len(x), self.z_dim)


class Decode(nn.Module):
    """``decoder(z, onehot(y))`` for a NeuralCPD fed raw parents ``(y, z)``."""

    def __init__(self, decoder: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.decoder, self.num_classes = decoder, num_classes

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        y1h = nn.functional.one_hot(y, self.num_classes).to(z.dtype)
        return self.decoder(z, y1h)  # (B, C, H, W) logits


def _standard_normal(loc: torch.Tensor) -> dist.Distribution:
    return dist.Normal(loc, torch.ones_like(loc))


def _bernoulli(logits: torch.Tensor) -> dist.Distribution:
    # validate_args=False: grey levels in [0, 1] are soft targets, as in probgen.vae's Bernoulli likelihood
    return dist.Bernoulli(logits=logits, validate_args=False)


def _cvae_cpds(decoder: nn.Module, z_dim: int, num_classes: int, x_shape) -> dict:
    return {
        "y": TabularCPD(list(range(num_classes)), [1.0 / num_classes] * num_classes),
        "z": NeuralCPD(StandardNormalLoc(z_dim), _standard_normal, event_shape=(z_dim,)),
        "x": NeuralCPD(Decode(decoder, num_classes), _bernoulli, parents=["y", "z"],
                       event_shape=tuple(x_shape), parent_encoding="raw"),
    }


def cvae_network(decoder: nn.Module, z_dim: int, num_classes: int = 10, x_shape=(1, 28, 28)) -> HybridNetwork:
    """The three-node network ``y -> x <- z`` around ``decoder`` (see the module docstring)."""
    return HybridNetwork(_cvae_cpds(decoder, z_dim, num_classes, x_shape), name="conditional VAE")


def cvae_graph(decoder: nn.Module, z_dim: int, num_classes: int = 10, x_shape=(1, 28, 28)) -> nx.DiGraph:
    """The same network as a networkx graph with a ``cpd`` per node, for ``BayesNet(cvae_graph(...))``."""
    g = nx.DiGraph(name="conditional VAE")
    for n, cpd in _cvae_cpds(decoder, z_dim, num_classes, x_shape).items():
        g.add_node(n, cpd=cpd)
    g.add_edges_from([("y", "x"), ("z", "x")])
    return g


class CVAEGuide:
    """q(z | x, y) = N(encoder(x, onehot(y))) at site ``"z"`` under the program's ``"rows"`` plate."""

    def __init__(self, encoder: nn.Module, num_classes: int = 10, name: str = "guide_encoder") -> None:
        self.encoder, self.num_classes, self.name = encoder, num_classes, name

    def __call__(self, data: dict, num_rows: int | None = None) -> torch.Tensor:
        pyro.module(self.name, self.encoder)
        x, y = data["x"], torch.as_tensor(data["y"])
        loc, scale = self.encoder(x, nn.functional.one_hot(y, self.num_classes).to(x.dtype))  # (B, d) each
        with pyro.plate("rows", len(x), dim=-1):
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))
        return loc


def elbo_given_class(net: HybridNetwork, guide: CVAEGuide, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image one-sample ELBO of log p(x | y) (nats, ``(B,)``): log p(x | y, z) + log p(z) -
    log q(z | x, y) at z ~ q, the estimator ``Trace_ELBO`` uses (the constant log p(y) left out)."""
    data = {"x": x, "y": y}
    with torch.no_grad():
        g = poutine.trace(guide).get_trace(data)
        m = poutine.trace(poutine.replay(hybrid_model, trace=g)).get_trace(net, data)
    m.compute_log_prob()
    g.compute_log_prob()
    return m.nodes["x"]["log_prob"] + m.nodes["z"]["log_prob"] - g.nodes["z"]["log_prob"]


@torch.no_grad()
def sample_class(net: HybridNetwork, k: int, n: int, mean: bool = True) -> torch.Tensor:
    """``n`` images with evidence ``y = k``: z from its prior, then the mean of p(x | y, z) (``mean``) or a
    draw; ``(n, C, H, W)`` in [0, 1]. (``y`` is a root, so conditioning on it is intervening on it.)"""
    y = torch.full((n,), int(k), dtype=torch.long)
    z = net.cpds["z"].sample({}, (n,))  # (n, z_dim)
    d = net.cpds["x"].distribution({"y": y, "z": z})
    return d.mean if mean else d.sample()
