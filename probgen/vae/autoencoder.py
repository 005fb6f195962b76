"""A plain deterministic autoencoder with the VAE's networks, for the latent-space comparison.

The code of an image is the encoder's mean head, z = mu(x); training minimises the reconstruction loss
-log p(x | z) under the same likelihood as the VAE, with no prior and no KL term. Nothing pulls the codes
toward N(0, I), so they spread over a few separated clumps; decoding points between the clumps gives
images unlike any digit, and decoding points next to a code gives near copies of training images. That is
the "sparse latent space" the VAE's KL term fixes.
"""

from __future__ import annotations

import torch
from torch import nn

from probgen.checks import check_int, check_num_classes
from probgen.checks_torch import check_labels
from probgen.vae.checks import check_vae_images
from probgen.vae.config import check_hidden, check_x_shape
from probgen.vae.likelihoods import get_likelihood
from probgen.vae.nets import build_nets


class Autoencoder(nn.Module):
    """Deterministic autoencoder; arguments as :class:`probgen.vae.VAE` (the networks are identical)."""

    def __init__(self, x_shape=(1, 28, 28), z_dim: int = 50, hidden=400, likelihood: str = "bernoulli",
                 arch: str = "mlp", num_classes: int | None = None, *, min_scale: float = 0.01,
                 conv_channels=(32, 64)) -> None:
        super().__init__()
        self.x_shape = check_x_shape(x_shape)
        self.z_dim = check_int("z_dim", z_dim, 1)
        self.hidden = check_hidden(hidden)
        self.num_classes = check_num_classes(num_classes)
        self.arch = arch
        self.likelihood = get_likelihood(likelihood, min_scale)
        self.encoder, self.decoder = build_nets(arch, self.x_shape, self.z_dim, self.hidden, num_classes or 0,
                                                self.likelihood.params_per_channel, conv_channels)

    @classmethod
    def like(cls, vae) -> Autoencoder:
        """An untrained autoencoder with the same networks as ``vae``."""
        cfg = vae.config_dict()
        cfg.pop("name")
        return cls(**cfg)

    def _images(self, x):
        dtype = next(self.parameters()).dtype
        return check_vae_images(x, self.x_shape, self.likelihood, who="this autoencoder", dtype=dtype)

    def _labels(self, y, n):
        y = check_labels(y, self.num_classes, n, who="this autoencoder")
        if y is None:
            return None
        p = next(self.parameters())
        return nn.functional.one_hot(y.to(p.device), self.num_classes).to(p.dtype)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (B, z_dim) of images (B, C, H, W)."""
        x = self._images(x)
        return self.encoder(x, self._labels(y, len(x)))[0]

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean images (B, C, H, W) in [0, 1] of codes (B, z_dim)."""
        return self.likelihood.mean(self.decoder(z, self._labels(y, len(z))))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """decode(encode(x)): (B, C, H, W) -> (B, C, H, W)."""
        return self.decode(self.encode(x, y), y)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction loss -sum log p(x | z = mu(x)) over the batch (a scalar)."""
        x = self._images(x)
        y1h = self._labels(y, len(x))
        z = self.encoder(x, y1h)[0]  # (B, z_dim)
        return -self.likelihood.log_prob_sum(self.decoder(z, y1h), x)

    def fit(self, loader, epochs: int, lr: float = 1e-3, grad_hook=None, quiet: bool = True) -> list[float]:
        """Train with Adam on ``loader`` batches ``(x, y)``; returns the mean loss per image of each epoch."""
        from probgen.progress import progress

        opt = torch.optim.Adam(self.parameters(), lr=lr)
        history = []
        bar = progress(range(epochs), desc="autoencoder (minimising the reconstruction loss)", quiet=quiet,
                       unit="epoch")
        for epoch in bar:
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
            total, n = 0.0, 0
            for x, y in loader:
                loss = self.loss(x, y if self.num_classes else None)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if grad_hook is not None:
                    grad_hook(list(self.parameters()))
                opt.step()
                total, n = total + loss.item(), n + len(x)
            history.append(total / n)
            bar.set_postfix({"loss/img": f"{history[-1]:.4g}"}, refresh=False)
        return history

    def __repr__(self) -> str:
        return (f"Autoencoder(x_shape={self.x_shape}, z_dim={self.z_dim}, hidden={self.hidden}, "
                f"likelihood={self.likelihood.name!r}, arch={self.arch!r})")
