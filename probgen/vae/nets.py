"""Encoder and decoder networks, registered by architecture name (``"mlp"``, ``"conv"``).

An encoder maps images x (N, C, H, W) (and, for a conditional model, one-hot labels (N, K)) to the mean
and standard deviation of q(z | x), each (N, z_dim). A decoder maps z (N, z_dim) (plus labels) to the raw
output (N, k*C, H, W) that a likelihood turns into p(x | z) (k = 1 for Bernoulli, 2 for a Gaussian with a
learned variance). Both are plain :class:`torch.nn.Module` s with no Pyro in them.

The MLP with ``hidden=(400,)`` and ``z_dim=50`` is exactly the network of pytorch/examples' VAE
(784-400-(50, 50) encoder with ReLU, 50-400-784 decoder), so that benchmarks compare like with like.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers with ReLU after each, ``sizes[0] -> sizes[1] -> ...``."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


def _cat(h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return h if y is None else torch.cat([h, y.to(h.dtype)], dim=-1)


class GaussianHeads(nn.Module):
    """Two linear heads: loc and log-variance; returns (loc, scale = exp(logvar / 2)), each (N, z_dim)."""

    def __init__(self, in_features: int, z_dim: int) -> None:
        super().__init__()
        self.loc = nn.Linear(in_features, z_dim)
        self.logvar = nn.Linear(in_features, z_dim)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.loc(h), torch.exp(0.5 * self.logvar(h))


class MLPEncoder(nn.Module):
    """Flatten, ``hidden`` ReLU layers, Gaussian heads. x (N, C, H, W), y (N, K) -> (N, z_dim) x 2."""

    def __init__(self, x_shape: tuple[int, int, int], z_dim: int, hidden: Sequence[int] = (400,),
                 num_classes: int = 0, **_) -> None:
        super().__init__()
        sizes = [math.prod(x_shape) + num_classes, *hidden]
        self.body = _mlp(sizes)
        self.heads = GaussianHeads(sizes[-1], z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        h = self.body(_cat(x.flatten(1), y))  # (N, hidden[-1])
        return self.heads(h)


class MLPDecoder(nn.Module):
    """``hidden`` (reversed) ReLU layers, then a linear map to (N, out_per_channel*C, H, W)."""

    def __init__(self, x_shape: tuple[int, int, int], z_dim: int, hidden: Sequence[int] = (400,),
                 num_classes: int = 0, out_per_channel: int = 1, **_) -> None:
        super().__init__()
        c, h, w = x_shape
        self.out_shape = (out_per_channel * c, h, w)
        sizes = [z_dim + num_classes, *reversed(tuple(hidden))]
        self.body = _mlp(sizes)
        self.out = nn.Linear(sizes[-1], math.prod(self.out_shape))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.body(_cat(z, y))).view(-1, *self.out_shape)  # (N, k*C, H, W)


def _conv_grid(x_shape: tuple[int, int, int], channels: Sequence[int]) -> tuple[int, int]:
    """Spatial size after ``len(channels)`` stride-2 convolutions."""
    f = 2 ** len(channels)
    return x_shape[1] // f, x_shape[2] // f


class ConvEncoder(nn.Module):
    """Stride-2 4x4 convolutions (``channels``), flatten, ``hidden`` ReLU layers, Gaussian heads."""

    def __init__(self, x_shape: tuple[int, int, int], z_dim: int, hidden: Sequence[int] = (400,),
                 num_classes: int = 0, channels: Sequence[int] = (32, 64), **_) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip([x_shape[0], *channels[:-1]], channels):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
        self.conv = nn.Sequential(*layers)
        h, w = _conv_grid(x_shape, channels)
        sizes = [channels[-1] * h * w + num_classes, *hidden]
        self.body = _mlp(sizes)
        self.heads = GaussianHeads(sizes[-1], z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        h = self.conv(x).flatten(1)  # (N, channels[-1] * H/4 * W/4)
        return self.heads(self.body(_cat(h, y)))


class ConvDecoder(nn.Module):
    """``hidden`` ReLU layers, a linear map to a (channels[-1], H/4, W/4) grid, stride-2 transposed convs."""

    def __init__(self, x_shape: tuple[int, int, int], z_dim: int, hidden: Sequence[int] = (400,),
                 num_classes: int = 0, out_per_channel: int = 1, channels: Sequence[int] = (32, 64),
                 **_) -> None:
        super().__init__()
        h, w = _conv_grid(x_shape, channels)
        self.grid = (channels[-1], h, w)
        sizes = [z_dim + num_classes, *reversed(tuple(hidden)), math.prod(self.grid)]
        self.body = _mlp(sizes)
        chans = [*reversed(tuple(channels)), out_per_channel * x_shape[0]]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(chans[:-1], chans[1:])):
            layers.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            if i < len(chans) - 2:
                layers.append(nn.ReLU())
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(_cat(z, y)).view(-1, *self.grid)  # (N, channels[-1], H/4, W/4)
        return self.deconv(h)  # (N, k*C, H, W)


_ARCHS: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "mlp": (MLPEncoder, MLPDecoder),
    "conv": (ConvEncoder, ConvDecoder),
}


def register_arch(name: str, encoder: type[nn.Module], decoder: type[nn.Module]) -> None:
    """Register an (encoder, decoder) pair; both take ``(x_shape, z_dim, hidden, num_classes, ...)``."""
    if name in _ARCHS:
        raise ValueError(f"architecture {name!r} is already registered")
    _ARCHS[name] = (encoder, decoder)


def list_archs() -> list[str]:
    """Names accepted by ``VAE(arch=...)``."""
    return list(_ARCHS)


def check_arch(name: str, x_shape: tuple[int, int, int], channels: Sequence[int]) -> None:
    """Raise a ValueError when ``name`` is unknown or cannot handle images of ``x_shape``."""
    if name not in _ARCHS:
        raise ValueError(f"Unknown architecture `arch`={name!r}; use one of {list_archs()}")
    if name == "conv":
        f = 2 ** len(channels)
        if x_shape[1] % f or x_shape[2] % f:
            raise ValueError(
                f"`arch`='conv' with {len(channels)} stride-2 layers needs height and width divisible by "
                f"{f}, got `x_shape`={tuple(x_shape)}; use arch='mlp' or resize (8x8, 28x28, 32x32 work)"
            )


def build_nets(arch: str, x_shape, z_dim: int, hidden, num_classes: int, out_per_channel: int,
               channels: Sequence[int] = (32, 64)) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder) of architecture ``arch``."""
    check_arch(arch, x_shape, channels)
    enc_cls, dec_cls = _ARCHS[arch]
    kw = dict(x_shape=tuple(x_shape), z_dim=z_dim, hidden=tuple(hidden), num_classes=num_classes,
              channels=tuple(channels))
    return enc_cls(**kw), dec_cls(out_per_channel=out_per_channel, **kw)
