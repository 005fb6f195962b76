"""Inpainting with a VAE: fill in missing pixels by inference over z given the observed ones.

A VAE trained on digits defines p(x) = integral p(z) p(x | z) dz. Given the observed pixels x_o of an
image, ``vae.inpaint(x, mask)`` weights draws of z by p(x_o | z) p(z) / q(z) (importance sampling, only the
observed pixels in the likelihood) and fills the missing pixels with the weighted mean of the decoded
images. The figure shows, per column, the digit, what was observed, and the completion; the script prints
the error on the missing pixels next to the error of filling them with the training set's mean image.

    python examples/vae_inpainting.py --epochs 30 --mask bottom
"""

import argparse
from pathlib import Path

import pyro
import torch
from pyro.infer import SVI

from probgen.data import load_dataset, make_loader
from probgen.plot import save_image_grid
from probgen.vae import VAE, FastTrace_ELBO, JointOptim

SMOKE_ARGS = ["--data", "digits", "--epochs", "1", "--num-samples", "20", "--out", "{out}"]


def make_mask(kind: str, shape, generator) -> torch.Tensor:
    """True = observed. bottom: the bottom half is missing; left: the left half; random: 60% missing."""
    n, c, h, w = shape
    mask = torch.ones(shape, dtype=torch.bool)
    if kind == "bottom":
        mask[..., h // 2 :, :] = False
    elif kind == "left":
        mask[..., :, : w // 2] = False
    else:
        mask = torch.rand(shape, generator=generator) > 0.6
    return mask


def main(args):
    pyro.set_rng_seed(args.seed)
    train = load_dataset(args.data, "train", binarize="stochastic", seed=args.seed)
    test = load_dataset(args.data, "test", binarize="stochastic", seed=args.seed + 1)
    vae = VAE(x_shape=tuple(train.images.shape[1:]), z_dim=args.z_dim, hidden=400)
    svi = SVI(vae.model, vae.guide, JointOptim.adam(1e-3), FastTrace_ELBO())
    loader = make_loader(train, batch_size=128, seed=args.seed)
    for epoch in range(1, args.epochs + 1):
        loader.set_epoch(epoch)
        loss = sum(svi.step(x) for x, _ in loader) / len(train.images)
        print(f"epoch {epoch:3d}  train ELBO {-loss:9.3f}")

    x = test.images[torch.linspace(0, len(test.images) - 1, args.n).long()]  # digits of every class
    mask = make_mask(args.mask, x.shape, torch.Generator().manual_seed(args.seed))
    filled = vae.inpaint(x, mask, num_samples=args.num_samples)
    missing = ~mask
    mean_image = train.images.mean(0, keepdim=True).expand_as(x)
    err = (filled - x).abs()[missing].mean()
    base = (mean_image - x).abs()[missing].mean()
    print(f"mean |error| on missing pixels: VAE inpainting {err:.3f}, training mean image {base:.3f}")
    observed = torch.where(mask, x, torch.full_like(x, 0.5))  # missing pixels shown grey
    path = save_image_grid(torch.cat([x, observed, filled]), Path(args.out) / "inpainting.png", nrow=len(x))
    print(f"rows: digit, observed (grey = missing), completion -> {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="VAE inpainting by importance sampling over z")
    parser.add_argument("--data", default="mnist-5k")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--z-dim", type=int, default=20)
    parser.add_argument("--mask", default="bottom", choices=["bottom", "left", "random"])
    parser.add_argument("--n", type=int, default=12, help="test digits to complete")
    parser.add_argument("--num-samples", type=int, default=2000, help="importance samples per image")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/vae_inpainting")
    main(parser.parse_args())
