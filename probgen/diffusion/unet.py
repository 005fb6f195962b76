"""A small U-Net noise predictor eps_theta(x_t, t [, y]) with a sinusoidal time embedding.

The architecture follows Ho et al. (2020, arXiv 2006.11239, appendix B), scaled down for CPU training:
residual blocks (GroupNorm, SiLU, 3x3 convs) that add a projection of the time embedding, a stride-2
conv to go down a level and nearest-neighbour upsampling plus a conv to come back, skip connections
concatenated on the way up, and one self-attention block at the lowest resolution. The time step enters
as the Transformer's sinusoidal position embedding (Vaswani et al. 2017) followed by a two-layer MLP. A
class-conditional net (``num_classes`` set) adds a learned label embedding to the time embedding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from probgen.checks import check_num_classes


def _groups(channels: int) -> int:
    """GroupNorm groups: 8 when it divides the channels, else the largest common divisor with 8."""
    return math.gcd(channels, 8)


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer position embedding of time steps t (B,) (ints or floats): (B, dim) = [sin | cos]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]  # (B, half)
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)  # (B, 2 half)
    return F.pad(emb, (0, dim % 2))  # (B, dim)


class ResBlock(nn.Module):
    """x (B, c_in, H, W), emb (B, emb_dim) -> (B, c_out, H, W): two 3x3 convs with the embedding added."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity (on its skip path)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over the H x W positions, residual: (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads if channels % heads == 0 else 1
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))  # each (B, heads, HW, C / heads)
        a = F.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, C / heads)
        return x + self.out(a.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    """eps_theta: noisy images x_t (B, C, H, W) and steps t (B,) [, labels y (B,)] -> noise (B, C, H, W).

    Args:
        channels: image channels C.
        image_size: (H, W); both must be divisible by 2 ** (len(channel_mults) - 1).
        base_channels: width of the first level; level i has ``base_channels * channel_mults[i]``.
        channel_mults: one multiplier per resolution level (each level after the first halves H and W).
        num_res_blocks: residual blocks per level on the way down (one more on the way up).
        attention: a self-attention block in the middle (lowest resolution).
        dropout: dropout inside the residual blocks.
        num_classes: None for an unconditional net, else the number of labels y can take.
    """

    def __init__(self, *, channels: int = 1, image_size: tuple[int, int] = (28, 28), base_channels: int = 32,
                 channel_mults: tuple[int, ...] = (1, 2, 2), num_res_blocks: int = 1, attention: bool = True,
                 dropout: float = 0.0, num_classes: int | None = None) -> None:
        super().__init__()
        num_classes = check_num_classes(num_classes)
        factor = 2 ** (len(channel_mults) - 1)
        if any(s % factor for s in image_size):
            raise ValueError(f"image size {tuple(image_size)} is not divisible by {factor}, which "
                             f"`channel_mults`={tuple(channel_mults)} ({len(channel_mults)} levels) needs; "
                             "use fewer levels or a divisible image size")
        self.channels, self.image_size, self.num_classes = channels, tuple(image_size), num_classes
        emb_dim = 4 * base_channels
        self.time_dim = base_channels
        self.time_mlp = nn.Sequential(nn.Linear(base_channels, emb_dim), nn.SiLU(),
                                      nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(num_classes, emb_dim) if num_classes else None
        self.conv_in = nn.Conv2d(channels, base_channels, 3, padding=1)
        widths = [base_channels * m for m in channel_mults]
        self.down, skips, c = nn.ModuleList(), [base_channels], base_channels
        for i, w in enumerate(widths):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(c, w, emb_dim, dropout))
                c = w
                skips.append(c)
            if i < len(widths) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid1 = ResBlock(c, c, emb_dim, dropout)
        self.mid_attn = SelfAttention(c) if attention else nn.Identity()
        self.mid2 = ResBlock(c, c, emb_dim, dropout)
        self.up = nn.ModuleList()
        for i, w in reversed(list(enumerate(widths))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), w, emb_dim, dropout))
                c = w
            if i > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(c, c, 3, padding=1)))
        self.norm_out = nn.GroupNorm(_groups(c), c)
        self.conv_out = nn.Conv2d(c, channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # predicts zero noise at first
        nn.init.zeros_(self.conv_out.bias)

    def embed(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Time (and label) embedding: t (B,), y (B,) or None -> (B, 4 base_channels)."""
        emb = self.time_mlp(sinusoidal_embedding(t, self.time_dim).to(self.time_mlp[0].weight.dtype))
        return emb + self.label(y) if self.label is not None else emb

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.embed(t, y)  # (B, E)
        h = self.conv_in(x)  # (B, base, H, W)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)  # (B, c, H / f, W / f)
        for layer in self.up:
            h = layer(torch.cat([h, hs.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, C, H, W)
