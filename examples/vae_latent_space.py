"""Autoencoder vs VAE: a sparse latent space and a dense one.

Both models use the same encoder and decoder networks and a 2-D latent space. The autoencoder only
reconstructs; the VAE also pays KL(q(z | x) || N(0, I)), which packs the codes into a dense, roughly
Gaussian cloud. Decoding random latent points shows the difference: the VAE's prior samples look like
digits, the autoencoder's look like digits only near its training codes. Figures: ``ae_vs_vae.png``
(codes and samples of both) and ``manifold.png`` (the VAE's latent plane decoded on a grid of Gaussian
quantiles, as in Kingma & Welling 2013, Fig. 4).

    python examples/vae_latent_space.py --epochs 30
"""

import argparse
from pathlib import Path

import pyro
from pyro.infer import SVI

from probgen.data import load_dataset, make_loader
from probgen.vae import VAE, Autoencoder, FastTrace_ELBO, JointOptim
from probgen.vae.figures import ae_vs_vae_figure, latent_figure, manifold_figure

SMOKE_ARGS = ["--data", "digits", "--epochs", "1", "--out", "{out}"]


def main(args):
    pyro.set_rng_seed(args.seed)
    train = load_dataset(args.data, "train", binarize="stochastic", seed=args.seed)
    test = load_dataset(args.data, "test", binarize="stochastic", seed=args.seed + 1)
    shape = tuple(train.images.shape[1:])
    vae = VAE(x_shape=shape, z_dim=2, hidden=args.hidden)
    ae = Autoencoder(x_shape=shape, z_dim=2, hidden=args.hidden)

    svi = SVI(vae.model, vae.guide, JointOptim.adam(1e-3), FastTrace_ELBO())
    loader = make_loader(train, batch_size=128, seed=args.seed)
    for epoch in range(1, args.epochs + 1):
        loader.set_epoch(epoch)
        loss = sum(svi.step(x) for x, _ in loader) / len(train.images)
        print(f"VAE epoch {epoch:3d}  train ELBO {-loss:9.3f}")
    history = ae.fit(make_loader(train, batch_size=128, seed=args.seed), args.epochs)
    print(f"autoencoder: final reconstruction loss {history[-1]:.3f} nats/image")

    vae.eval()
    ae.eval()
    out = Path(args.out)
    for path in (ae_vs_vae_figure(vae, ae, test.images, test.labels, train.images, out / "ae_vs_vae.png"),
                 latent_figure(vae, test.images, test.labels, out / "latent.png"),
                 manifold_figure(vae, out / "manifold.png")):
        print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Autoencoder vs VAE latent spaces")
    parser.add_argument("--data", default="mnist-5k")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/vae_latent_space")
    main(parser.parse_args())
