"""The matched networks of ``probgen compare``.

Every VAE decoder and GAN generator here is the same network class and size: probgen's convolutional VAE
decoder :class:`probgen.vae.nets.ConvDecoder` (z (32) [+ one-hot label (10)] -> 256 ReLU units -> a
(64, H/4, W/4) grid -> two 4x4 stride-2 transposed convolutions (64 -> 32 -> 1 channel)), followed by a
sigmoid: the Bernoulli VAE's mean image sigmoid(logits) and the GAN's sample are the same function of z.
Both get batch normalisation after each hidden layer (:func:`with_batchnorm`, as in DCGAN's generator):
without it this decoder's output hardly depends on z at initialisation (pixel s.d. across z about 0.01)
and the GAN collapsed to one image in every run (docs/compare.md); the VAE gets it too, so that the two
stay the same network.
The GAN's discriminator mirrors the VAE's encoder trunk (:class:`probgen.vae.nets.ConvEncoder`: two 4x4
stride-2 convolutions (32, 64 channels), 256 units), with LeakyReLU and one logit instead of the Gaussian
heads. The DDPM (``ddpm=True``) keeps its own U-Net: a denoiser is not a z -> x map, so it is not matched.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from probgen.vae.model import VAE
from probgen.vae.nets import ConvDecoder

ARCH = {"z_dim": 32, "hidden": (256,), "channels": (32, 64)}  # the one decoder/generator size
ARCH_TEXT = ("decoder = generator: probgen.vae.nets.ConvDecoder (z 32 -> 256 -> 64x7x7 -> 2 stride-2 "
             "transposed convs 64-32-1, batch norm, sigmoid)")


def one_hot(y: torch.Tensor | None, num_classes: int | None) -> torch.Tensor | None:
    """(B,) int labels -> (B, K) float one-hot, or None for an unconditional model."""
    return None if y is None or not num_classes else F.one_hot(y, num_classes).float()


def with_batchnorm(decoder: ConvDecoder) -> ConvDecoder:
    """Insert BatchNorm after each hidden linear layer and each transposed convolution but the last of a
    ConvDecoder (before its ReLU), in place; returns it. z (B, 32) -> same output shape."""
    body: list[nn.Module] = []
    for m in decoder.body:
        body.append(m)
        if isinstance(m, nn.Linear):
            body.append(nn.BatchNorm1d(m.out_features))
    decoder.body = nn.Sequential(*body)
    convs = [m for m in decoder.deconv if isinstance(m, nn.ConvTranspose2d)]
    deconv: list[nn.Module] = []
    for m in decoder.deconv:
        deconv.append(m)
        if isinstance(m, nn.ConvTranspose2d) and m is not convs[-1]:
            deconv.append(nn.BatchNorm2d(m.out_channels))
    decoder.deconv = nn.Sequential(*deconv)
    return decoder


def build_vae(x_shape: tuple[int, int, int], num_classes: int | None) -> VAE:
    """A Bernoulli VAE whose decoder is the matched ConvDecoder (with batch normalisation)."""
    vae = VAE(x_shape=x_shape, z_dim=ARCH["z_dim"], hidden=ARCH["hidden"], likelihood="bernoulli",
              arch="conv", num_classes=num_classes, conv_channels=ARCH["channels"])
    with_batchnorm(vae.decoder)
    return vae


class Generator(nn.Module):
    """x = sigmoid(ConvDecoder(z, one-hot y)): z (B, 32) -> images (B, C, H, W) in [0, 1]."""

    def __init__(self, x_shape: tuple[int, int, int], num_classes: int | None = None) -> None:
        super().__init__()
        self.net = with_batchnorm(ConvDecoder(x_shape, ARCH["z_dim"], ARCH["hidden"], num_classes or 0,
                                              out_per_channel=1, channels=ARCH["channels"]))

    def forward(self, z: torch.Tensor, y1h: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.net(z, y1h))  # (B, C, H, W)


class Discriminator(nn.Module):
    """The VAE encoder's trunk with LeakyReLU and one logit: images (B, C, H, W) [+ (B, K)] -> (B,)."""

    def __init__(self, x_shape: tuple[int, int, int], num_classes: int | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        chans = ARCH["channels"]
        for a, b in zip([x_shape[0], *chans[:-1]], chans):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.conv = nn.Sequential(*layers)
        f = 2 ** len(chans)
        width = chans[-1] * math.prod(s // f for s in x_shape[1:]) + (num_classes or 0)
        self.head = nn.Sequential(nn.Linear(width, ARCH["hidden"][0]), nn.LeakyReLU(0.2),
                                  nn.Linear(ARCH["hidden"][0], 1))

    def forward(self, x: torch.Tensor, y1h: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv(2 * x - 1).flatten(1)  # (B, chans[-1] * H/4 * W/4)
        h = h if y1h is None else torch.cat([h, y1h], 1)
        return self.head(h).squeeze(1)  # (B,)


class MatchedGAN(nn.Module):
    """Generator and discriminator; ``sample(n, y=None)`` for :func:`probgen.compare.compare_models`."""

    def __init__(self, x_shape: tuple[int, int, int], num_classes: int | None = None) -> None:
        super().__init__()
        self.num_classes, self.z_dim = num_classes, ARCH["z_dim"]
        self.generator = Generator(x_shape, num_classes)
        self.discriminator = Discriminator(x_shape, num_classes)

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1]; ``y`` (n,) classes of a conditional GAN (uniform if None)."""
        device = next(self.parameters()).device
        if self.num_classes and y is None:
            y = torch.randint(self.num_classes, (n,), device=device)
        z = torch.randn(n, self.z_dim, device=device)  # (n, 32)
        y1h = one_hot(None if y is None else y.to(device), self.num_classes)
        return self.generator(z, y1h)


class DDPMSampler:
    """A DDPM sampled with ``steps`` respaced reverse steps (``sample(n, y=None)``, explicit by kind, but no
    IWAE: its variational bound is not estimated here)."""

    def __init__(self, ddpm, steps: int) -> None:
        self.ddpm, self.steps, self.num_classes = ddpm, steps, None

    def sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.ddpm.sample(n, self.steps, batch_size=500)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
