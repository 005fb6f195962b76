"""The variational autoencoder, written the way ``pyro/examples/vae/vae.py`` is.

``VAE.model`` is the generative model p(z) p(x | z) with a standard-normal prior over ``z_dim`` latents;
``VAE.guide`` is the amortised encoder q(z | x) = N(mu(x), diag sigma^2(x)). Both register their network
with ``pyro.module`` and sample the latent site ``"z"`` under one ``pyro.plate("data", B)``; the model
observes ``"x"``. They work unchanged with ``pyro.infer.SVI`` and any ELBO (``Trace_ELBO`` with
``num_particles``/``vectorize_particles``, ``TraceMeanField_ELBO``, ``JitTrace_ELBO``), with
``pyro.infer.Predictive`` and with ``poutine`` handlers. Gradients reach the encoder through the
reparameterised draw z = mu + sigma * eps (``rsample``).

References: Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114; Sohn et al., "Learning
structured output representation using deep conditional generative models" (conditional VAE), NeurIPS 2015.
"""

from __future__ import annotations

import math
import os

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from pyro.params.param_store import param_with_module_name
from torch import nn

from probgen.checkpoint import expect_kind, load_checkpoint, load_weights, rebuilding, save_checkpoint
from probgen.checks import check_bool, check_float, check_int, check_ints, check_num_classes
from probgen.checks_torch import check_labels, check_latents
from probgen.vae import estimators
from probgen.vae.checks import check_mask, check_vae_images
from probgen.vae.config import check_hidden, check_x_shape
from probgen.vae.likelihoods import get_likelihood
from probgen.vae.nets import build_nets

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_KIND = "probgen.vae.VAE"


class VAE(nn.Module):
    """A VAE over images of shape ``x_shape`` = (C, H, W) with pixels in [0, 1].

    Args:
        x_shape: image shape (C, H, W), e.g. (1, 28, 28).
        z_dim: latent dimension.
        hidden: hidden layer width(s) of encoder and decoder (an int or a tuple; ``()`` makes both linear).
        likelihood: ``"bernoulli"``, ``"gaussian"`` (decoder-learned variance) or ``"continuous-bernoulli"``.
        arch: ``"mlp"`` or ``"conv"`` (see :func:`probgen.vae.list_archs`).
        num_classes: K for a conditional VAE (encoder and decoder also see the one-hot label); None for a
            plain one.
        min_scale: floor on the Gaussian likelihood's standard deviation.
        conv_channels: channels of the stride-2 convolutions of ``arch="conv"``.
        name: prefix of this model's names in Pyro's param store (``<name>_encoder$$$...``); give two VAEs
            used in one param store different names.

    Images and latent codes must be floating point: a lower precision than the networks' is converted
    (float16 -> float32), a higher one refused with a message naming the argument and both dtypes
    (float64 on a float32 VAE: pass ``x.float()``); see ``probgen.checks_torch.as_model_dtype``.
    """

    def __init__(self, x_shape=(1, 28, 28), z_dim: int = 50, hidden=400, likelihood: str = "bernoulli",
                 arch: str = "mlp", num_classes: int | None = None, *, min_scale: float = 0.01,
                 conv_channels=(32, 64), name: str = "vae") -> None:
        super().__init__()
        self.x_shape = check_x_shape(x_shape)
        self.z_dim = check_int("z_dim", z_dim, 1)
        self.hidden = check_hidden(hidden)
        self.num_classes = check_num_classes(num_classes)
        self.min_scale = check_float("min_scale", min_scale, 0.0, low_open=True)
        self.arch, self.name = arch, str(name)
        self.conv_channels = check_ints("conv_channels", conv_channels, 1)
        self.likelihood = get_likelihood(likelihood, self.min_scale)
        self.encoder, self.decoder = build_nets(arch, self.x_shape, self.z_dim, self.hidden,
                                                self.num_classes or 0, self.likelihood.params_per_channel,
                                                self.conv_channels)
        self._first_param: dict[str, tuple[str, nn.Parameter]] = {}

    # ------------------------------------------------------------------------------------------ Pyro
    def model(self, x: torch.Tensor | None = None, y: torch.Tensor | None = None, *,
              batch_size: int | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        """p(z) p(x | z, y): ``"z"`` ~ N(0, I) (B, z_dim), ``"x"`` observed (B, C, H, W).

        Args:
            x: images (B, C, H, W), or None to generate ``batch_size`` images (``"x"`` is then sampled).
            y: labels (B,) int64 for a conditional VAE.
            mask: bool, broadcastable to ``x``; only pixels where it is True are observed (inpainting).

        Returns:
            the mean image of p(x | z), (..., B, C, H, W).
        """
        x, y1h, n = self.prepare_inputs(x, y, batch_size)
        self._register("decoder")
        with pyro.plate("data", n):
            ref = self._ref_tensor(x)
            z_loc = ref.new_zeros((n, self.z_dim))
            z = pyro.sample("z", dist.Normal(z_loc, torch.ones_like(z_loc)).to_event(1))  # (..., B, z_dim)
            out = self._decoder_output(z, y1h)  # (..., B, k*C, H, W)
            if mask is not None:
                mask = check_mask(mask, x)
            pyro.sample("x", self.likelihood.dist(out, mask), obs=x)
        return self.likelihood.mean(out)

    def guide(self, x: torch.Tensor | None = None, y: torch.Tensor | None = None, *,
              batch_size: int | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        """q(z | x, y) = N(mu(x, y), diag sigma^2(x, y)) at site ``"z"``, (B, z_dim); returns mu.

        ``mask`` is accepted for symmetry with :meth:`model` and ignored: the encoder sees ``x`` as given.
        """
        if x is None:
            raise ValueError("the guide q(z | x) needs images `x`; to generate images use "
                             "pyro.infer.Predictive(vae.model, num_samples=S)(None, batch_size=n)")
        x, y1h, n = self.prepare_inputs(x, y, batch_size)
        self._register("encoder")
        with pyro.plate("data", n):
            loc, scale = self.encoder(x, y1h)  # (B, z_dim) each
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))
        return loc

    # ------------------------------------------------------------------------------------------ API
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of q(z | x): (B, C, H, W) -> ((B, z_dim), (B, z_dim))."""
        return self.encoder(*self._images(x, y))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None, raw: bool = False) -> torch.Tensor:
        """Mean image of p(x | z) in [0, 1]: z (..., z_dim) -> (..., C, H, W).

        ``z`` must be floating point; a lower precision than the VAE's is converted (float16 -> float32),
        a higher one refused (``probgen.checks_torch.as_model_dtype``).

        ``raw=True`` returns the decoder output instead (the likelihood's parameters, (..., k*C, H, W):
        logits for Bernoulli, loc and pre-softplus scale for Gaussian).
        """
        z = check_latents(z, self.z_dim, dtype=self._dtype(), who="this VAE", leading=True)
        n = z.shape[-2] if z.ndim >= 2 else 1
        y1h = self._one_hot(check_labels(y, self.num_classes, n, who="this VAE"))
        out = self._decoder_output(z if z.ndim >= 2 else z[None], y1h)
        out = out if z.ndim >= 2 else out[0]
        return out if check_bool("raw", raw) else self.likelihood.mean(out)

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | int | None = None, mean: bool = True) -> torch.Tensor:
        """n images from the prior, (n, C, H, W) in [0, 1]: the mean of p(x | z) (``mean=True``) or a draw.

        For a conditional VAE, ``y`` gives the classes: an int (all n of that class) or (n,) labels.
        """
        n, mean = check_int("n", n, 1), check_bool("mean", mean)
        y = check_labels(y, self.num_classes, n, who="this VAE")
        z = torch.randn(n, self.z_dim, device=self.device)  # (n, z_dim)
        out = self._decoder_output(z, self._one_hot(y))
        return self.likelihood.mean(out) if mean else self.likelihood.sample(out)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None, mean: bool = True) -> torch.Tensor:
        """Decode the posterior mean of z: (B, C, H, W) -> (B, C, H, W) in [0, 1]."""
        mean = check_bool("mean", mean)
        x, y1h = self._images(x, y)
        loc, _ = self.encoder(x, y1h)
        out = self._decoder_output(loc, y1h)
        return self.likelihood.mean(out) if mean else self.likelihood.sample(out)

    @torch.no_grad()
    def elbo(self, x: torch.Tensor, y: torch.Tensor | None = None, num_samples: int = 1,
             analytic_kl: bool = False) -> torch.Tensor:
        """Per-image ELBO in nats, (B,): a ``num_samples``-sample Monte-Carlo estimate (as Trace_ELBO), or
        E_q[log p(x | z)] - KL(q || p) with the KL in closed form (as TraceMeanField_ELBO)."""
        x, y1h = self._images(x, y)
        return self.elbo_terms(x, y1h, check_int("num_samples", num_samples, 1),
                               analytic_kl=check_bool("analytic_kl", analytic_kl))

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor, y: torch.Tensor | None = None, num_samples: int = 1000,
                       chunk_size: int = 4096) -> torch.Tensor:
        """Importance-weighted estimate of log p(x) in nats, (B,) (Burda et al., arXiv:1509.00519).

        log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x), k = ``num_samples``; a lower bound that
        tightens to log p(x) as k grows. At most ``chunk_size`` images are decoded at once, so k = 1,000
        fits in memory for any batch.
        """
        x, y1h = self._images(x, y)
        return estimators.iwae(self, x, y1h, check_int("num_samples", num_samples, 1),
                               check_int("chunk_size", chunk_size, 1))

    @torch.no_grad()
    def inpaint(self, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor | None = None,
                num_samples: int = 1000, rounds: int = 3, chunk_size: int = 4096) -> torch.Tensor:
        """Fill the pixels of ``x`` where ``mask`` is False, given the observed ones: (B, C, H, W).

        Self-normalised importance sampling over z with weights p(x_obs | z) p(z) / q(z), where only the
        observed pixels enter the likelihood. The proposal is built from the encoder applied to the image
        completed so far (first round: missing pixels set to the decoded prior mean), as the defensive
        mixture 1/2 q(z | x) + 1/2 q(z | x) widened twofold (the posterior given fewer pixels is wider),
        refined for ``rounds`` rounds.
        Returns the completed images: observed pixels unchanged, missing ones E[x_miss | x_obs].
        """
        x, y1h = self._images(x, y)
        mask = check_mask(mask, x)
        return estimators.inpaint(self, x, mask, y1h, check_int("num_samples", num_samples, 1),
                                  check_int("rounds", rounds, 1), check_int("chunk_size", chunk_size, 1))

    # ------------------------------------------------------------------------------------------ saving
    def config_dict(self) -> dict:
        """Constructor arguments as plain values (what :meth:`save` stores)."""
        return {"x_shape": list(self.x_shape), "z_dim": self.z_dim, "hidden": list(self.hidden),
                "likelihood": self.likelihood.name, "arch": self.arch, "num_classes": self.num_classes,
                "min_scale": self.min_scale, "conv_channels": list(self.conv_channels), "name": self.name}

    def save(self, path: str | os.PathLike, **extra) -> os.PathLike:
        """Atomically save configuration and weights (plus ``extra`` plain values) to ``path``."""
        return save_checkpoint(path, {"kind": _KIND, "config": self.config_dict(),
                                      "state_dict": self.state_dict(), "extra": extra})

    @classmethod
    def load(cls, path: str | os.PathLike, map_location="cpu") -> VAE:
        """A VAE rebuilt from a file written by :meth:`save` (or a training checkpoint).

        Raises:
            CheckpointError: naming the file and what is wrong: not a readable checkpoint, one of another
                kind (a GAN's, ...), or a config its weights do not fit.
        """
        state = load_checkpoint(path, map_location=map_location)
        source = repr(str(path))
        expect_kind(state, _KIND, source)
        with rebuilding(source, "a VAE"):
            vae = cls(**state["config"])
            load_weights(vae, state["state_dict"], source)
        return vae.to(map_location) if map_location is not None else vae

    # ------------------------------------------------------------------------------------------ internals
    def elbo_terms(self, x: torch.Tensor, y1h: torch.Tensor | None, num_particles: int = 1,
                   mask: torch.Tensor | None = None, analytic_kl: bool = False,
                   reduce: bool = False) -> torch.Tensor:
        """Per-image ELBO (B,) averaged over ``num_particles`` draws (``reduce``: its sum, a scalar).

        log p(x | z) + log p(z) - log q(z | x) at z = mu + sigma * eps: the estimator Trace_ELBO builds
        for this model/guide pair, differentiable. log q is written in eps = (z - mu) / sigma, which has
        the same total derivative; the 2*pi constants of p(z) and q(z) cancel.
        """
        loc, scale = self.encoder(x, y1h)  # (B, z_dim) each
        shape = loc.shape if num_particles == 1 else (num_particles, *loc.shape)
        eps = torch.randn(shape, dtype=loc.dtype, device=loc.device)  # (S?, B, z_dim)
        z = loc + scale * eps
        out = self._decoder_output(z, y1h)  # (S?, B, k*C, H, W)
        if reduce:
            log_px = self.likelihood.log_prob_sum(out, x) if mask is None else \
                self.likelihood.log_prob(out, x, mask).sum()
            if analytic_kl:
                kl = 0.5 * (loc * loc + scale * scale - 1).sum() - scale.log().sum()
                return log_px / num_particles - kl
            return (log_px - 0.5 * (z * z).sum() + 0.5 * (eps * eps).sum()) / num_particles \
                + scale.log().sum()
        log_px = self.likelihood.log_prob(out, x, mask)  # (S?, B)
        if analytic_kl:
            kl = 0.5 * (loc * loc + scale * scale - 1).sum(-1) - scale.log().sum(-1)  # (B,)
            elbo = log_px - kl
        else:
            elbo = log_px - 0.5 * (z * z).sum(-1) + 0.5 * (eps * eps).sum(-1) + scale.log().sum(-1)
        return elbo if num_particles == 1 else elbo.mean(0)

    def prepare_inputs(self, x, y=None, batch_size=None):
        """Checked inputs of ``model``/``guide``: (x (B, C, H, W) or None, one-hot y (B, K) or None, B)."""
        if x is not None:
            x = check_vae_images(x, self.x_shape, self.likelihood, dtype=self._dtype())
            n = x.shape[0]
        elif batch_size is not None:
            n = check_int("batch_size", batch_size, 1)
        elif isinstance(y, torch.Tensor) and y.ndim == 1:
            n = len(y)
        else:
            raise ValueError("model(x=None) generates images and needs their number: pass batch_size=n")
        return x, self._one_hot(check_labels(y, self.num_classes, n, who="this VAE")), n

    def _images(self, x, y) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Checked images (B, C, H, W) and one-hot labels for the methods that need images."""
        if x is None:
            raise ValueError("`x` (images of shape (B, C, H, W)) is required here; to generate images use "
                             "vae.sample(n)")
        x, y1h, _ = self.prepare_inputs(x, y, None)
        return x, y1h

    def _one_hot(self, y: torch.Tensor | None) -> torch.Tensor | None:
        if y is None:
            return None
        return F.one_hot(y.to(self.device), self.num_classes).to(self._dtype())  # (B, K)

    def _decoder_output(self, z: torch.Tensor, y1h: torch.Tensor | None) -> torch.Tensor:
        """Decoder on z (..., z_dim), any leading dims (particles, Predictive draws) -> (..., k*C, H, W)."""
        lead = z.shape[:-1]
        if y1h is not None:
            y1h = y1h.expand(*lead, y1h.shape[-1]).reshape(-1, y1h.shape[-1])
        out = self.decoder(z.reshape(-1, self.z_dim), y1h)  # (N, k*C, H, W)
        return out.reshape(*lead, *out.shape[1:])

    def register_params(self) -> None:
        """Put the encoder's and decoder's weights in Pyro's param store, as the first call of ``model`` and
        ``guide`` does. After ``load_state_dict`` (resuming a run), call it before restoring the rest of
        the store or an optimizer state, so that the store holds these very tensors."""
        self._register("encoder")
        self._register("decoder")

    def _register(self, part: str) -> None:
        """``pyro.module`` the encoder or decoder; refuse a param store holding another model's weights."""
        module = getattr(self, part)
        prefix = f"{self.name}_{part}"
        pyro.module(prefix, module)
        if part not in self._first_param:
            pname, p = next(iter(module.named_parameters()))
            self._first_param[part] = (param_with_module_name(prefix, pname), p)
        key, p = self._first_param[part]
        if pyro.get_param_store().get_param(key) is not p:
            raise ValueError(
                f"Pyro's param store already holds a parameter {key!r} that is not this VAE's (another model "
                f"with `name`={self.name!r} used the store first); call pyro.clear_param_store() or build "
                "this VAE with a different `name`"
            )

    def _ref_tensor(self, x):
        return x if x is not None else next(self.decoder.parameters())

    @property
    def device(self) -> torch.device:
        """Where the networks' weights are (``vae.to(device)`` moves them)."""
        return next(self.decoder.parameters()).device

    def _dtype(self) -> torch.dtype:
        return next(self.decoder.parameters()).dtype

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.parameters())
        cond = f", num_classes={self.num_classes}" if self.num_classes else ""
        return (f"VAE(x_shape={self.x_shape}, z_dim={self.z_dim}, hidden={self.hidden}, "
                f"likelihood={self.likelihood.name!r}, arch={self.arch!r}{cond}, parameters={n:,})")

