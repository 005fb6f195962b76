"""Variational autoencoder on MNIST digits, trained with Pyro's SVI.

The model p(z) p(x | z) and the amortised guide q(z | x) come from ``probgen.vae.VAE``; the training loop
below is the one of Pyro's own VAE example (``pyro/examples/vae/vae.py``), with probgen's fast path
(``FastTrace_ELBO`` + ``JointOptim``; pass ``--plain-pyro`` for ``Trace_ELBO`` + ``pyro.optim.Adam``).
At the end it reports the test log-likelihood (IWAE) and saves prior samples and the latent manifold.

    python examples/vae_mnist.py --epochs 50 --z-dim 50
    python examples/vae_mnist.py --epochs 30 --z-dim 2    # 2-D latent: the manifold is the latent plane
"""

import argparse
from pathlib import Path

import pyro
import torch
from pyro.infer import SVI, Trace_ELBO

from probgen.data import load_dataset, make_loader
from probgen.plot import save_image_grid
from probgen.vae import VAE, FastTrace_ELBO, JointOptim
from probgen.vae.figures import manifold_figure, pca_basis

SMOKE_ARGS = ["--data", "digits", "--epochs", "1", "--z-dim", "2", "--hidden", "32", "--iwae-samples", "5",
              "--out", "{out}"]


def main(args):
    pyro.set_rng_seed(args.seed)
    pyro.clear_param_store()
    train = load_dataset(args.data, "train", binarize="stochastic", seed=args.seed)
    test = load_dataset(args.data, "test", binarize="stochastic", seed=args.seed + 1)
    vae = VAE(x_shape=tuple(train.images.shape[1:]), z_dim=args.z_dim, hidden=args.hidden, arch=args.arch)
    if args.plain_pyro:
        svi = SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": args.lr}), Trace_ELBO())
    else:
        svi = SVI(vae.model, vae.guide, JointOptim.adam(args.lr), FastTrace_ELBO())
    loader = make_loader(train, batch_size=args.batch_size, seed=args.seed)
    for epoch in range(1, args.epochs + 1):
        loader.set_epoch(epoch)
        train_loss = sum(svi.step(x) for x, _ in loader) / len(train.images)
        test_loss = sum(svi.evaluate_loss(x) for x, _ in make_loader(test, 500, shuffle=False))
        test_elbo = -test_loss / len(test.images)
        print(f"epoch {epoch:3d}  train ELBO {-train_loss:9.3f}  test ELBO {test_elbo:9.3f}")

    x = test.images[: args.iwae_images]
    ll = vae.log_likelihood(x, num_samples=args.iwae_samples).mean()
    print(f"test log-likelihood (IWAE, k={args.iwae_samples}, {len(x)} images): {ll:.2f} nats")

    out = Path(args.out)
    save_image_grid(vae.sample(64), out / "samples.png")
    with torch.no_grad():
        basis = pca_basis(vae.encode(test.images)[0])
    manifold_figure(vae, out / "manifold.png", basis=basis)
    print(f"figures in {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="VAE on MNIST digits with Pyro SVI")
    parser.add_argument("--data", default="mnist-5k", help="mnist-5k (offline), digits, mnist, ...")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--z-dim", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--arch", default="mlp", choices=["mlp", "conv"])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iwae-samples", type=int, default=1000)
    parser.add_argument("--iwae-images", type=int, default=1000)
    parser.add_argument("--plain-pyro", action="store_true", help="Trace_ELBO + pyro.optim.Adam")
    parser.add_argument("--out", default="runs/vae_mnist")
    main(parser.parse_args())
