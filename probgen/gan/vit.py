"""Vision-transformer discriminator, stabilised the ViTGAN way (Lee et al., arXiv 2107.04589).

The image is cut into P x P patches that overlap their neighbours by ``overlap`` pixels on each side (ViTGAN
found that non-overlapping patches let the discriminator overfit to the patch grid), each flattened patch
is embedded linearly, a learned class token (and, when conditional, a label token) is prepended, and
learned 1-D positional embeddings are added. Transformer blocks use L2-distance attention with tied query
and key weights, and every linear map is spectrally normalised and rescaled by its spectral norm at
initialisation: both keep the discriminator Lipschitz, which plain dot-product attention is not
(Kim et al. 2021). The class token's final state gives one logit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from probgen.checks import check_int, check_num_classes
from probgen.gan._blocks import Block, check_disc_input, linear
from probgen.gan.registry import register_model


@register_model("vit", role="discriminator")
class ViTDiscriminator(nn.Module):
    """ViTGAN discriminator: images (B, C, H, W) in [-1, 1] (+ labels y (B,) when conditional) -> logits (B,).

    Args:
        channels, image_size: the input images' shape; ``image_size`` must be a multiple of ``patch_size``.
        patch_size: P; the image gives (image_size / P)^2 tokens.
        overlap: extra pixels each patch takes from its neighbours on every side (patches are
            (P + 2 overlap)^2 pixels, taken with stride P).
        dim, depth, heads, mlp_ratio: token width, number of blocks, attention heads, MLP width / dim.
        num_classes: None for unconditional, else a learned label token is added to the sequence.
        pos_std: standard deviation of the initial positional embeddings.
    """

    def __init__(self, *, channels: int = 1, image_size: int = 28, patch_size: int = 4, overlap: int = 2,
                 dim: int = 128, depth: int = 4, heads: int = 4, mlp_ratio: float = 4.0,
                 num_classes: int | None = None, pos_std: float = 0.02) -> None:
        super().__init__()
        for name, v in (("channels", channels), ("image_size", image_size), ("patch_size", patch_size),
                        ("dim", dim), ("depth", depth), ("heads", heads)):
            check_int(name, v, 1)
        check_int("overlap", overlap, 0)
        num_classes = check_num_classes(num_classes)
        if image_size % patch_size:
            raise ValueError(f"the ViT discriminator needs `image_size` (={image_size}) to be a multiple of "
                             f"`patch_size` (={patch_size})")
        self.channels, self.image_size, self.num_classes = channels, image_size, num_classes
        self.patch_size, self.overlap = patch_size, overlap
        self.num_patches = (image_size // patch_size) ** 2
        k = patch_size + 2 * overlap
        self.embed = linear(channels * k * k, dim, sn=True)
        extra = 2 if num_classes else 1  # class token (+ label token)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.label = nn.Embedding(num_classes, dim) if num_classes else None
        self.pos = nn.Parameter(torch.empty(1, self.num_patches + extra, dim))
        nn.init.trunc_normal_(self.pos, std=pos_std, a=-2 * pos_std, b=2 * pos_std)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, l2=True, sn=True) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = linear(dim, 1, sn=True)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """Overlapping patches, flattened: (B, C, H, W) -> (B, N, C (P + 2 overlap)^2)."""
        k = self.patch_size + 2 * self.overlap
        cols = F.unfold(x, kernel_size=k, stride=self.patch_size, padding=self.overlap)  # (B, C k k, N)
        return cols.transpose(1, 2)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = check_disc_input(self, x, y, "the ViT discriminator")
        tokens = self.embed(self.patches(x))  # (B, N, dim)
        extra = [self.cls.expand(len(x), -1, -1)]
        if self.label is not None:
            extra.append(self.label(y).unsqueeze(1).to(tokens.dtype))  # (B, 1, dim)
        h = torch.cat(extra + [tokens], dim=1) + self.pos  # (B, N + 1 [+ 1], dim)
        h = self.norm(self.blocks(h))
        return self.head(h[:, 0]).squeeze(-1)  # (B,)
