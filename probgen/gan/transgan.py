"""Transformer generator in the TransGAN / ViTGAN style (Jiang et al., arXiv 2102.07074; Lee et al.,
arXiv 2107.04589).

z (with a label embedding concatenated when conditional) is projected linearly to a coarse grid of tokens,
learned 1-D positional embeddings are added, and transformer blocks process them. Each further stage
upsamples the token grid 2x with a pixel shuffle (TransGAN: tokens (B, g^2, D) -> (B, 4 g^2, D / 4), trading
width for resolution so the cost stays flat), adds its own positional embedding and runs its blocks. Finally
every token is mapped linearly to a P x P patch of pixels (ViTGAN's patch output), tanh.

On 28x28 images with ``patch_size=2`` and two stages, the grids are 7x7 then 14x14 tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from probgen.checks import check_int, check_ints, check_num_classes
from probgen.gan._blocks import Block, linear, with_label
from probgen.gan.registry import register_model


def _grid_sizes(image_size: int, patch_size: int, stages: int) -> list[int]:
    if image_size % patch_size:
        raise ValueError(f"the transformer generator needs `image_size` (={image_size}) to be a multiple of "
                         f"`patch_size` (={patch_size})")
    final = image_size // patch_size
    if final % 2 ** (stages - 1):
        raise ValueError(
            f"the transformer generator cannot produce `image_size`={image_size} with `patch_size`="
            f"{patch_size} and {stages} stages: the {final}x{final} token grid must halve {stages - 1} "
            "time(s) exactly; use fewer stages or another patch size"
        )
    return [final // 2 ** (stages - 1 - i) for i in range(stages)]


@register_model("transformer", role="generator")
class TransformerGenerator(nn.Module):
    """Transformer generator: z (B, latent_dim) (+ labels y (B,) when conditional) -> images (B, C, H, W).

    The images have ``channels`` channels, side ``image_size`` and values in [-1, 1].

    Args:
        latent_dim: size of z.
        channels, image_size: output shape.
        patch_size: pixels per side each final token draws.
        dim: token width of the first stage; each later stage has a quarter of the previous width.
        depth: blocks per stage, one entry per stage (``(2, 2)``: two stages).
        heads, mlp_ratio: attention heads in the first stage (later stages keep the head width, so have
            a quarter of the heads each) and MLP width / token width.
        num_classes, embed_dim: None for unconditional, else the number of classes and the size of the
            label embedding.
        pos_std: standard deviation of the initial positional embeddings.
    """

    def __init__(self, *, latent_dim: int = 128, channels: int = 1, image_size: int = 28, patch_size: int = 2,
                 dim: int = 128, depth: tuple[int, ...] | list[int] = (2, 2), heads: int = 4,
                 mlp_ratio: float = 4.0, num_classes: int | None = None, embed_dim: int = 16,
                 pos_std: float = 0.02) -> None:
        super().__init__()
        for name, v in (("latent_dim", latent_dim), ("channels", channels), ("image_size", image_size),
                        ("patch_size", patch_size), ("dim", dim), ("heads", heads), ("embed_dim", embed_dim)):
            check_int(name, v, 1)
        num_classes = check_num_classes(num_classes)
        depth = check_ints("depth", depth, 1)  # blocks per stage
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        self.num_classes, self.patch_size = num_classes, patch_size
        self.grids = _grid_sizes(image_size, patch_size, len(depth))
        self.dims = [dim // 4**i for i in range(len(depth))]
        if dim % heads or dim % 4 ** (len(depth) - 1):
            raise ValueError(f"`dim` (={dim}) must be divisible by `heads` (={heads}) and by 4 once per "
                             f"upsampling stage ({4 ** (len(depth) - 1)}); widths would be {self.dims}")
        head_dim = dim // heads  # kept across stages: a stage with a quarter of the width has a quarter
        self.heads = [max(1, d // head_dim) for d in self.dims]  # of the heads (and 4x the tokens)
        if any(d % h for d, h in zip(self.dims, self.heads)):
            raise ValueError(f"stage widths {self.dims} do not split into heads {self.heads}; raise `dim`")
        self.label = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.project = linear(latent_dim + (embed_dim if num_classes else 0), self.grids[0] ** 2 * dim)
        self.pos = nn.ParameterList(
            [nn.Parameter(torch.randn(1, g * g, d) * pos_std) for g, d in zip(self.grids, self.dims)]
        )
        self.stages = nn.ModuleList(
            [nn.Sequential(*[Block(d, h, mlp_ratio) for _ in range(n)])
             for d, h, n in zip(self.dims, self.heads, depth)]
        )
        self.norm = nn.LayerNorm(self.dims[-1])
        self.to_pixels = linear(self.dims[-1], channels * patch_size**2)

    @staticmethod
    def _upsample(h: torch.Tensor, grid: int) -> torch.Tensor:
        """Pixel-shuffle the token grid: (B, g^2, D) -> (B, 4 g^2, D / 4)."""
        b, n, d = h.shape
        h = h.transpose(1, 2).reshape(b, d, grid, grid)  # (B, D, g, g)
        h = F.pixel_shuffle(h, 2)  # (B, D / 4, 2g, 2g)
        return h.flatten(2).transpose(1, 2)  # (B, 4 g^2, D / 4)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_label(self, z, y)  # (B, latent_dim [+ embed_dim])
        h = self.project(z).view(len(z), self.grids[0] ** 2, self.dims[0])  # (B, g0^2, dim)
        for i, blocks in enumerate(self.stages):
            if i:
                h = self._upsample(h, self.grids[i - 1])
            h = blocks(h + self.pos[i])  # (B, g_i^2, dim_i)
        pix = self.to_pixels(self.norm(h))  # (B, g^2, C P^2)
        g, p = self.grids[-1], self.patch_size
        img = F.pixel_shuffle(pix.transpose(1, 2).reshape(len(z), -1, g, g), p)  # (B, C, g P, g P)
        return torch.tanh(img)
