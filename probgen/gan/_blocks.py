"""Building blocks shared by the GAN architectures: input checks, label embeddings, DCGAN initialisation,
spectral normalisation the ViTGAN way, and transformer blocks (dot-product or L2-distance attention).

References:
    Radford et al., "Unsupervised representation learning with deep convolutional GANs" (DCGAN), 2015.
    Miyato et al., "Spectral normalization for generative adversarial networks", 2018.
    Lee et al., "ViTGAN: training GANs with vision transformers", arXiv 2107.04589 (L2 attention with tied
    query/key weights, spectral norm rescaled by its value at initialisation).
    Kim et al., "The Lipschitz constant of self-attention", 2021 (why dot-product attention is not
    Lipschitz and L2-distance attention is).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from probgen.checks_torch import check_image_batch, check_labels, check_latents

NORMS = ("batch", "spectral", "none")


# ------------------------------------------------------------------------------------------------- helpers


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"`norm`={norm!r} is not a normalisation; use one of {list(NORMS)}")
    return norm


def check_disc_input(d: nn.Module, x: torch.Tensor, y: torch.Tensor | None, who: str) -> torch.Tensor:
    """A discriminator's input: images (B, C, H, W) of its shape and dtype (no pass over the values: this
    runs in every step) and labels as its ``num_classes`` asks. Returns the images in D's dtype (a
    lossless widening is applied, a narrowing refused: ``probgen.checks_torch.as_model_dtype``)."""
    dtype = next(d.parameters()).dtype
    x = check_image_batch(x, (d.channels, d.image_size, d.image_size), who=who, dtype=dtype, finite=False)
    check_labels(y, d.num_classes, x.shape[0], who=who)
    return x


def with_label(g: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """A generator's checked input: z (B, latent_dim), with the label embedding ``g.label(y)`` (B, embed_dim)
    appended when ``g`` is class-conditional."""
    z = check_latents(z, g.latent_dim, dtype=next(g.parameters()).dtype, who="this generator")
    check_labels(y, g.num_classes, z.shape[0], who="this generator")
    return z if g.label is None else torch.cat([z, g.label(y).to(z.dtype)], dim=1)


def init_dcgan_(module: nn.Module) -> None:
    """DCGAN initialisation: conv and linear weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class LabelChannel(nn.Module):
    """A learned (1, H, W) map per class, appended to an image as an extra input channel.

    Shapes: x (B, C, H, W), y (B,) -> (B, C + 1, H, W).
    """

    def __init__(self, num_classes: int, image_size: int) -> None:
        super().__init__()
        self.image_size = image_size
        self.embed = nn.Embedding(num_classes, image_size * image_size)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        s = self.image_size
        label = self.embed(y).view(-1, 1, s, s).to(x.dtype)  # (B, 1, H, W)
        if x.is_contiguous(memory_format=torch.channels_last):
            label = label.contiguous(memory_format=torch.channels_last)
        return torch.cat([x, label], dim=1)  # (B, C + 1, H, W)


# ------------------------------------------------------------------------------------ spectral normalisation


class _Rescale(nn.Module):
    """Multiply a (spectrally normalised) weight by a constant: ViTGAN's ``sigma(W_init) * W / sigma(W)``."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale)))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * self.scale


def apply_spectral_norm(module: nn.Module, rescale: bool = False) -> nn.Module:
    """Spectrally normalise ``module.weight``; with ``rescale``, keep its initial spectral norm (ViTGAN)."""
    sigma0 = torch.linalg.matrix_norm(module.weight.detach().flatten(1), ord=2).item() if rescale else 1.0
    spectral_norm(module)
    if rescale:
        parametrize.register_parametrization(module, "weight", _Rescale(sigma0))
    return module


def spectral_norm_convs_(module: nn.Module) -> nn.Module:
    """Spectrally normalise every conv in ``module`` (call after initialising the weights)."""
    for m in list(module.modules()):
        if isinstance(m, nn.Conv2d):
            apply_spectral_norm(m)
    return module


# ------------------------------------------------------------------------------------------- transformers


def linear(d_in: int, d_out: int, sn: bool = False, bias: bool = True, small: bool = False) -> nn.Linear:
    """A linear map, N(0, 0.02)-initialised as in ViT.

    ``sn=True``: spectrally normalised and rescaled to its initial spectral norm (ViTGAN), which then
    stays fixed for good, so the init sets each layer's gain: Xavier (gain about 1-2), or N(0, 0.02) with
    ``small=True``. With N(0, 0.02) everywhere the discriminator's logits could never leave about +-1.3
    (seen: D(x) stuck at 0.78); with Xavier query/key maps, L2 attention is so peaked that each token
    attends to itself only (the generator then learned nothing in 300 steps).
    """
    layer = nn.Linear(d_in, d_out, bias=bias)
    if sn and not small:
        nn.init.xavier_uniform_(layer.weight)
    else:
        nn.init.trunc_normal_(layer.weight, std=0.02)
    if bias:
        nn.init.zeros_(layer.bias)
    return apply_spectral_norm(layer, rescale=True) if sn else layer


class Attention(nn.Module):
    """Multi-head self-attention over tokens (B, N, D) -> (B, N, D).

    ``l2=True`` is ViTGAN's Lipschitz attention: logits are ``-||q_i - k_j||^2 / sqrt(d_head)`` with
    the query and key projections tied (W_q = W_k). ``sn=True`` spectrally normalises every projection.
    """

    def __init__(self, dim: int, heads: int, l2: bool = False, sn: bool = False) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"token width `dim` (={dim}) must be divisible by `heads` (={heads})")
        self.heads, self.l2 = heads, l2
        self.qk = linear(dim, dim if l2 else 2 * dim, sn=sn, bias=False, small=True)  # tied q = k when l2
        self.v = linear(dim, dim, sn=sn, bias=False)
        self.out = linear(dim, dim, sn=sn)

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        b, n, d = t.shape
        return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # (B, h, N, d_head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        v = self._split(self.v(x))  # (B, h, N, d_head)
        if self.l2:
            q = self._split(self.qk(x))  # (B, h, N, d_head), keys are the same vectors
            sq = q.pow(2).sum(-1)  # (B, h, N)
            dist2 = sq.unsqueeze(-1) - 2 * q @ q.transpose(-2, -1) + sq.unsqueeze(-2)  # (B, h, N, N)
            attn = torch.softmax(-dist2 / math.sqrt(q.shape[-1]), dim=-1)
            o = attn @ v  # (B, h, N, d_head)
        else:
            q, k = (self._split(t) for t in self.qk(x).chunk(2, dim=-1))
            o = F.scaled_dot_product_attention(q, k, v)  # (B, h, N, d_head)
        return self.out(o.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``; (B, N, D) -> (B, N, D)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, l2: bool = False, sn: bool = False):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, l2=l2, sn=sn)
        self.mlp = nn.Sequential(linear(dim, hidden, sn=sn), nn.GELU(), linear(hidden, dim, sn=sn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
