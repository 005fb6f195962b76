"""A conditional VAE written as a three-node Bayesian network, trained by SVI, sampled with evidence.

    y (digit class, a table)  ->  x (a 1x28x28 image, Bernoulli, NeuralCPD: an MLP decoder)  <-  z (style)

``y`` is a discrete node with a uniform ``TabularCPD``, ``z`` a continuous node whose ``NeuralCPD`` is the
standard normal prior, and ``x`` an image node whose ``NeuralCPD`` maps (y, z) to Bernoulli logits with
probgen's VAE decoder. ``bn.fit(data, method="svi", guide=...)`` trains the decoder by SVI on the
network's Pyro program, with an amortised guide q(z | x, y) (probgen's VAE encoder), on mnist-5k. Then
``bn.sample(n, evidence={"y": 3})`` draws threes and ``bn.intervene({"y": 7}).sample(n)`` sevens (y is a
root, so seeing and doing agree here); the shipped mnist-5k classifier checks the classes of the drawn
digits. Figure: ``cvae_samples.png`` (one row of draws per requested class). The benchmark
``bench/bayesnet_cvae.py`` compares this network with ``probgen.vae.VAE(num_classes=10)``.

    python examples/bayesnet_cvae.py --epochs 30
"""

import argparse
from pathlib import Path

import networkx as nx
import torch

import probgen
from probgen.bayesnet import BayesNet
from probgen.bayesnet.hybrid.cvae import CVAEGuide, cvae_graph
from probgen.data import load_dataset
from probgen.metrics import conditional_accuracy, load_classifier
from probgen.plot import save_image_grid
from probgen.vae import VAE

SMOKE_ARGS = ["--epochs", "1", "--limit", "256", "--per-class", "4", "--out", "{out}"]


def build(z_dim: int, hidden: int) -> tuple[BayesNet, CVAEGuide]:
    """The network y -> x <- z around probgen's VAE decoder, and the guide around its encoder."""
    vae = VAE((1, 28, 28), z_dim=z_dim, hidden=hidden, num_classes=10)  # for its two networks only
    g: nx.DiGraph = cvae_graph(vae.decoder, z_dim)  # nodes y, z, x with their cpd; edges y -> x <- z
    return BayesNet(g), CVAEGuide(vae.encoder)


def main(args):
    probgen.seed(args.seed)
    out = Path(args.out)
    data = load_dataset("mnist-5k", "train", binarize="stochastic", seed=args.seed)
    if args.limit:  # a class-stratified random subset (mnist-5k is sorted by label)
        keep = torch.randperm(len(data.labels), generator=torch.Generator().manual_seed(args.seed))
        data = type(data)(data.images[keep[: args.limit]], data.labels[keep[: args.limit]])
    bn, guide = build(args.z_dim, args.hidden)
    print(bn)
    for node in bn.nodes:
        print(f"  {node}: {bn.cpd(node)}")
    steps = args.epochs * -(-len(data.labels) // args.batch_size)
    bn.fit({"x": data.images, "y": data.labels}, method="svi", guide=guide, num_steps=steps,
           batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    losses = bn.fit_info["losses"]
    print(f"SVI: {steps} steps, loss (negative ELBO per image) {losses[0]:.1f} -> {losses[-1]:.1f}")

    seen = bn.sample(args.per_class, evidence={"y": 3})
    print(f"bn.sample(n, evidence={{'y': 3}}): {seen.method} ({seen.reason}); x {tuple(seen['x'].shape)}")
    done = bn.intervene({"y": 7}).sample(args.per_class)
    classifier = load_classifier("mnist-5k")
    with torch.no_grad():
        for name, draws, k in (("evidence y=3", seen, 3), ("do(y=7)", done, 7)):
            acc = conditional_accuracy(classifier(draws["x"]).argmax(-1), torch.full((args.per_class,), k))
            print(f"classifier accuracy of the {args.per_class} digits drawn with {name}: {acc:.3f}")
    rows = torch.cat([bn.sample(8, evidence={"y": k})["x"] for k in range(10)])
    print(f"figure: {save_image_grid(rows, out / 'cvae_samples.png', nrow=8)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--z-dim", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--limit", type=int, default=0, help="train on a random subset of this many images")
    parser.add_argument("--per-class", type=int, default=200, help="digits drawn for the accuracy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bayesnet_cvae")
    main(parser.parse_args())
