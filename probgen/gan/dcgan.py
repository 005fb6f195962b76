"""DCGAN generator and discriminator (Radford, Metz and Chintala, arXiv 1511.06434).

The generator projects z to a (8 ngf, 4, 4) map, as the DCGAN paper does, and grows it with **four
transposed convolutions**, BatchNorm and ReLU between them and tanh at the end. Stride-2 (fractionally
strided) convolutions double the side, or double it minus one with a 3x3 kernel, until the image size is
reached: 4 -> 8 -> 16 -> 32 -> 64 takes all four, 4 -> 7 -> 14 -> 28 and 4 -> 8 -> 16 -> 32 take three and the
fourth is a stride-1 transposed convolution at full resolution. (Starting from a 2x2 map so that 28 and 32
also get four doublings made the generator collapse to a single output on mnist-5k within 200 steps, with
either discriminator; the 4x4 start trains.) The discriminator mirrors it: stride-2 convolutions with
LeakyReLU(0.2) down to 4x4, BatchNorm on every layer after the first, and a 4x4 convolution to one logit.

Class-conditional variants (``num_classes > 0``) concatenate a learned label embedding to z in the generator
and append a learned per-class (1, H, W) map to the discriminator's input as an extra channel.
"""

from __future__ import annotations

import torch
from torch import nn

from probgen.checks import check_int, check_num_classes
from probgen.gan import _blocks as blocks
from probgen.gan.registry import register_model

NUM_UP = 4  # transposed convolutions in the generator


def stage_sizes(image_size: int) -> list[int]:
    """Sides of the feature maps from 4x4 up to the image, one doubling per step: 28 -> [4, 7, 14, 28]."""
    check_int("image_size", image_size, 1)
    sizes = [image_size]
    while sizes[-1] > 4:
        sizes.append(-(-sizes[-1] // 2))  # ceil: 7 -> 4, so that a 3x3 transposed conv can go 4 -> 7
    if sizes[-1] != 4 or image_size < 8:
        raise ValueError(
            f"DCGAN cannot produce `image_size`={image_size}: halving it (rounding up) must reach 4 exactly; "
            "use e.g. 16, 28, 32 or 64"
        )
    return sizes[::-1]


def _up(c_in: int, c_out: int, s_in: int, s_out: int) -> nn.ConvTranspose2d:
    """A transposed conv from side s_in to s_out: stride 2 for 2 s_in (4x4 kernel) or 2 s_in - 1 (3x3),
    stride 1 (3x3, same size) when s_out == s_in."""
    if s_out == s_in:
        return nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=False)
    return nn.ConvTranspose2d(c_in, c_out, kernel_size=s_out - 2 * s_in + 4, stride=2, padding=1, bias=False)


def _down(c_in: int, c_out: int, s_in: int) -> nn.Conv2d:
    """A stride-2 conv from side s_in to ceil(s_in / 2) (4x4 kernel for even sides, 3x3 for odd)."""
    return nn.Conv2d(c_in, c_out, kernel_size=4 if s_in % 2 == 0 else 3, stride=2, padding=1, bias=False)


@register_model("dcgan", role="generator")
class DCGANGenerator(nn.Module):
    """DCGAN generator: z (B, latent_dim) (+ labels y (B,) when conditional) -> images (B, C, H, W).

    The images have ``channels`` channels, side ``image_size`` and values in [-1, 1].

    Args:
        latent_dim: size of z.
        channels: output channels (1 grey, 3 colour).
        ngf: width; the feature maps have 8 ngf, 4 ngf, 2 ngf, ngf channels.
        image_size: output side: halving it (rounding up) must reach 4 (16, 28, 32, 64, ...).
        num_classes: None for an unconditional generator, else the number of classes.
        embed_dim: size of the label embedding concatenated to z (conditional only).
    """

    def __init__(self, *, latent_dim: int = 100, channels: int = 1, image_size: int = 28, ngf: int = 64,
                 num_classes: int | None = None, embed_dim: int = 16) -> None:
        super().__init__()
        for name, v in (("latent_dim", latent_dim), ("channels", channels), ("ngf", ngf),
                        ("embed_dim", embed_dim)):
            check_int(name, v, 1)
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        self.num_classes = num_classes = check_num_classes(num_classes)
        s = stage_sizes(image_size)  # e.g. [4, 7, 14, 28]
        s = s + [s[-1]] * max(0, NUM_UP + 1 - len(s))  # stride-1 convs at full size: [4, 7, 14, 28, 28]
        n = len(s) - 1  # transposed convs (four, or more for images above 64)
        widths = [ngf * 2 ** (n - 1 - i) for i in range(n)]  # 8 ngf, 4 ngf, 2 ngf, ngf for n = 4
        self.label = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.project = nn.Linear(latent_dim + (embed_dim if num_classes else 0), widths[0] * s[0] ** 2,
                                 bias=False)
        self.project_norm = nn.Sequential(nn.BatchNorm2d(widths[0]), nn.ReLU(True))  # (B, 8 ngf, s0, s0)
        layers = []
        for i in range(n - 1):
            layers += [_up(widths[i], widths[i + 1], s[i], s[i + 1]), nn.BatchNorm2d(widths[i + 1]),
                       nn.ReLU(True)]
        layers += [_up(widths[-1], channels, s[-2], s[-1]), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self._start = (widths[0], s[0])
        blocks.init_dcgan_(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = blocks.with_label(self, z, y)  # (B, latent_dim [+ embed_dim])
        c, s = self._start
        return self.net(self.project_norm(self.project(z).view(-1, c, s, s)))  # (B, channels, size, size)


@register_model("dcgan", role="discriminator")
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: images (B, C, H, W) (+ labels y (B,) when conditional) -> logits (B,).

    Images are in [-1, 1]; the logits are those of D(x) = p(real | x).

    Args:
        channels, image_size: the input images' shape (halving image_size must reach 4: 28, 32, 64, ...).
        ndf: width; the feature maps have ndf, 2 ndf, 4 ndf (, 8 ndf for 64x64) channels.
        num_classes: None for unconditional, else a per-class map is appended as an extra input channel.
        norm: ``"batch"`` (DCGAN: BatchNorm after every layer but the first; batch statistics always, so
            the discriminator keeps no running buffers), ``"spectral"`` (spectral norm on every conv, no
            BatchNorm; suits R1 and WGAN-GP) or ``"none"``.
    """

    def __init__(self, *, channels: int = 1, image_size: int = 28, ndf: int = 64,
                 num_classes: int | None = None, norm: str = "batch") -> None:
        super().__init__()
        check_int("channels", channels, 1)
        check_int("ndf", ndf, 1)
        self.num_classes = num_classes = check_num_classes(num_classes)
        self.channels, self.image_size = channels, image_size
        self.norm = blocks.check_norm(norm)
        s = stage_sizes(image_size)[::-1]  # e.g. [28, 14, 7, 4]
        n = len(s) - 1  # stride-2 convs down to 4x4
        widths = [channels + (1 if num_classes else 0)] + [ndf * 2**i for i in range(n)]
        self.label = blocks.LabelChannel(num_classes, image_size) if num_classes else None
        layers = []
        for i in range(n):
            layers.append(_down(widths[i], widths[i + 1], s[i]))
            if i > 0 and norm == "batch":
                layers.append(nn.BatchNorm2d(widths[i + 1], track_running_stats=False))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Conv2d(widths[-1], 1, kernel_size=4, bias=False))  # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        blocks.init_dcgan_(self)
        if norm == "spectral":
            blocks.spectral_norm_convs_(self.net)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = blocks.check_disc_input(self, x, y, "the DCGAN discriminator")
        if self.label is not None:
            x = self.label(x, y)  # (B, C + 1, H, W)
        return self.net(x).flatten()  # (B,)
