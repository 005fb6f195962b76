"""PatchGAN discriminator (Isola et al., "Image-to-image translation with conditional adversarial
networks", arXiv 1611.07004; the ``NLayerDiscriminator`` of pix2pix).

A fully convolutional net whose output is a map of logits, one per overlapping patch of the input: each
says whether its patch looks real. The loss averages over the map. Judging patches rather than whole images
penalises blur (a blurry patch is easy to tell from a sharp one) and lets the net stay small.

Layout: a 4x4 stride-2 conv with LeakyReLU(0.2), ``n_layers - 1`` more stride-2 convs with BatchNorm, one
stride-1 conv with BatchNorm, and a stride-1 conv to one channel. On 28x28 images ``n_layers=2`` gives a
(B, 1, 5, 5) map; ``receptive_field`` says how many input pixels each logit sees.
"""

from __future__ import annotations

import torch
from torch import nn

from probgen.checks import check_int, check_num_classes
from probgen.gan import _blocks as blocks
from probgen.gan.registry import register_model


def _conv_out(size: int, kernel: int, stride: int, padding: int = 1) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@register_model("patchgan", role="discriminator")
class PatchGANDiscriminator(nn.Module):
    """PatchGAN: images (B, C, H, W) in [-1, 1] (+ labels y (B,) when conditional) -> logits (B, 1, h, w).

    Args:
        channels, image_size: the input images' shape.
        ndf: width of the first conv; later ones double it, up to 8 ndf.
        n_layers: number of stride-2 convs (depth); deeper means larger patches and a smaller map.
        num_classes: None for unconditional, else a per-class map is appended as an extra input channel.
        norm: ``"batch"`` (batch statistics always, no running buffers), ``"spectral"`` or ``"none"``.
    """

    def __init__(self, *, channels: int = 1, image_size: int = 28, ndf: int = 64, n_layers: int = 2,
                 num_classes: int | None = None, norm: str = "batch") -> None:
        super().__init__()
        for name, v in (("channels", channels), ("image_size", image_size), ("ndf", ndf),
                        ("n_layers", n_layers)):
            check_int(name, v, 1)
        self.num_classes = num_classes = check_num_classes(num_classes)
        self.channels, self.image_size = channels, image_size
        self.norm = blocks.check_norm(norm)
        self.strides = [2] * n_layers + [1, 1]
        side = image_size
        for s in self.strides:
            side = _conv_out(side, 4, s)
        if side < 1:
            raise ValueError(f"PatchGAN with `n_layers`={n_layers} shrinks a {image_size}x{image_size} image "
                             "to nothing; use fewer layers or larger images")
        self.map_size = side
        self.label = blocks.LabelChannel(num_classes, image_size) if num_classes else None
        self.net = self._build(channels + (1 if num_classes else 0), ndf, n_layers, norm)
        blocks.init_dcgan_(self)
        if norm == "spectral":
            blocks.spectral_norm_convs_(self.net)

    @staticmethod
    def _build(c_in: int, ndf: int, n_layers: int, norm: str) -> nn.Sequential:
        layers = [nn.Conv2d(c_in, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for i in range(1, n_layers + 1):  # n_layers - 1 stride-2 convs, then one stride-1 conv
            out = ndf * min(2**i, 8)
            layers.append(nn.Conv2d(width, out, 4, 2 if i < n_layers else 1, 1, bias=norm != "batch"))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(out, track_running_stats=False))
            layers.append(nn.LeakyReLU(0.2, True))
            width = out
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))  # one logit per patch
        return nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side, in input pixels, of the patch each output logit sees."""
        rf = 1
        for s in reversed(self.strides):
            rf = (rf - 1) * s + 4
        return rf

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = blocks.check_disc_input(self, x, y, "the PatchGAN discriminator")
        if self.label is not None:
            x = self.label(x, y)  # (B, C + 1, H, W)
        return self.net(x)  # (B, 1, h, w)

    def extra_repr(self) -> str:
        return f"map={self.map_size}x{self.map_size}, receptive_field={self.receptive_field}"
