"""GAN losses, named plainly.

The discriminator D outputs logits l; D(x) = sigmoid(l(x)) = p(real | x). Every loss here returns what
its player *minimises*; a (B, 1, h, w) PatchGAN map is averaged over patches and batch.

* ``"minimax"``: the objective of Goodfellow et al. (arXiv 1406.2661) exactly as written,
  J = E log D(x) + E log(1 - D(G(z))). D maximises J (its loss is -J); G minimises J, i.e. its loss is
  E log(1 - D(G(z))) (the *saturating* form). Its gradient in the logit is -D(G(z)), which vanishes when
  D confidently rejects the fakes, as it does early in training.
* ``"non-saturating"``: the same D loss, but G minimises -E log D(G(z)), with logit gradient
  -(1 - D(G(z))) -> -1 when D rejects the fakes. Goodfellow et al. recommend it, and common code
  (pytorch/examples' DCGAN, StudioGAN, torchgan) uses it while *calling* it "minimax".
* ``"hinge"``: D minimises E relu(1 - l(x)) + E relu(1 + l(G(z))), G minimises -E l(G(z))
  (Lim and Ye 2017; Miyato et al. 2018).
* ``"wgan-gp"``: D (a critic) minimises E l(G(z)) - E l(x) + lambda E (||grad l(x_hat)|| - 1)^2 on random
  interpolates x_hat; G minimises -E l(G(z)) (Gulrajani et al., arXiv 1704.00028).

:func:`r1_penalty` is the R1 regulariser (gamma / 2) E ||grad_x l(x)||^2 on real data (Mescheder et al.,
arXiv 1801.04406).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from probgen.gan.config import LOSSES

__all__ = ["LOSSES", "GANLoss", "get_loss", "gradient_penalty", "minimax_objective", "per_image",
           "r1_penalty"]


def _mean(logits: torch.Tensor) -> torch.Tensor:
    return logits.float().mean()


def per_image(logits: torch.Tensor) -> torch.Tensor:
    """One logit per image: (B,) stays, a (B, 1, h, w) patch map is averaged to (B,)."""
    return logits.float().flatten(1).mean(1) if logits.ndim > 1 else logits.float()


class GANLoss:
    """A named pair of losses: :meth:`d_loss` (D minimises) and :meth:`g_loss` (G minimises).

    Args:
        name: one of :data:`LOSSES`.
        gp_weight: lambda of the WGAN-GP gradient penalty (``"wgan-gp"`` only).
    """

    def __init__(self, name: str = "non-saturating", gp_weight: float = 10.0) -> None:
        if name not in LOSSES:
            raise ValueError(f"Unknown loss {name!r}; known losses: {list(LOSSES)}")
        if gp_weight < 0:
            raise ValueError(f"`gp_weight` must be >= 0, got {gp_weight!r}")
        self.name, self.gp_weight = name, gp_weight

    @property
    def needs_penalty(self) -> bool:
        """True when :meth:`d_loss` must be completed by :func:`gradient_penalty`."""
        return self.name == "wgan-gp" and self.gp_weight > 0

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Discriminator loss from logits on real (B, ...) and fake (B, ...) images; a scalar."""
        real, fake = real.float(), fake.float()
        if self.name in ("minimax", "non-saturating"):  # -J = -E log D(x) - E log(1 - D(G(z)))
            return F.softplus(-real).mean() + F.softplus(fake).mean()
        if self.name == "hinge":
            return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return fake.mean() - real.mean()  # wgan-gp, without its penalty

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        """Generator loss from logits on fake images (B, ...); a scalar."""
        fake = fake.float()
        if self.name == "minimax":  # E log(1 - D(G(z))) = -E softplus(l)
            return -F.softplus(fake).mean()
        if self.name == "non-saturating":  # -E log D(G(z)) = E softplus(-l)
            return F.softplus(-fake).mean()
        return -fake.mean()  # hinge and wgan-gp

    def __repr__(self) -> str:
        extra = f", gp_weight={self.gp_weight}" if self.name == "wgan-gp" else ""
        return f"GANLoss({self.name!r}{extra})"


def get_loss(name: str, **kwargs) -> GANLoss:
    """The :class:`GANLoss` called ``name`` (one of :data:`LOSSES`)."""
    return GANLoss(name, **kwargs)


def minimax_objective(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """J = E log D(x) + E log(1 - D(G(z))) from logits (the value D maximises and G minimises)."""
    return -(F.softplus(-real.float()).mean() + F.softplus(fake.float()).mean())


def _input_gradient(disc: Callable, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """d/dx of the per-image logits summed over the batch, kept in the graph: (B, C, H, W)."""
    x = x.detach().requires_grad_(True)
    out = per_image(disc(x, y))  # (B,)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad


def gradient_penalty(disc: Callable, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None,
                     weight: float = 10.0) -> torch.Tensor:
    """WGAN-GP: weight * E (||grad l(x_hat)||_2 - 1)^2 at x_hat = eps x + (1 - eps) G(z), eps ~ U(0, 1)."""
    eps = torch.rand(len(real), 1, 1, 1, device=real.device, dtype=real.dtype)  # (B, 1, 1, 1)
    x_hat = eps * real.detach() + (1 - eps) * fake.detach()  # (B, C, H, W)
    grad = _input_gradient(disc, x_hat, y).float()
    return weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor, gamma: float = 10.0) -> torch.Tensor:
    """R1: (gamma / 2) E ||grad_x l(x)||^2 on real images.

    ``real`` (B, C, H, W) must require grad and ``real_logits`` (B, ...) come from it, so the penalty
    reuses the discriminator's forward pass on the real batch.
    """
    if not real.requires_grad:
        raise ValueError("r1_penalty needs `real` to require grad before the discriminator's forward pass")
    (grad,) = torch.autograd.grad(per_image(real_logits).sum(), real, create_graph=True)
    return 0.5 * gamma * grad.float().flatten(1).pow(2).sum(1).mean()
