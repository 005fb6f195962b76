"""The conditional VAE as a three-node hybrid Bayesian network, against probgen.vae.VAE(num_classes=10).

The network is a ``BayesNet`` built from ``cvae_graph`` (y -> x <- z, NeuralCPDs) and trained by SVI on
``bn.model``.

Both get the same networks (an MLP encoder and decoder built by ``probgen.vae``, identical initial
weights), the same binarised mnist-5k batches in the same order, Adam with the same learning rate and
``Trace_ELBO``; their SVI steps alternate, batch by batch, with common random numbers (each pair of steps
draws the same noise), so any difference comes from the implementations, not the luck of the draws.
Reported: the test ELBO (nats per image, the
one-sample estimator of ``probgen.vae.train.evaluate_elbo``, a bound on log p(x | y)), the accuracy of the
shipped mnist-5k classifier on mean images drawn with evidence y = k (``--per-class`` for every class k);
for the network also on the binary draws of ``bn.sample(n, evidence={"y": k})["x"]`` and of
``bn.intervene({"y": k}).sample(n)["x"]``; and seconds per epoch.

    python bench/bayesnet_cvae.py                 # 100 epochs, z_dim 2 (about 8 minutes on 2 busy cores)
    python bench/bayesnet_cvae.py --quick         # 1 epoch on 512 images: a smoke test
"""

from __future__ import annotations

import argparse
import sys
import time

import pyro
import torch
from pyro.infer import SVI, Trace_ELBO

import probgen
from probgen.bayesnet import BayesNet
from probgen.bayesnet.hybrid.cvae import CVAEGuide, cvae_graph, elbo_given_class, sample_class
from probgen.data import load_dataset, make_loader
from probgen.metrics import conditional_accuracy, load_classifier
from probgen.vae import VAE
from probgen.vae.train import evaluate_elbo


def _vae(args) -> VAE:
    probgen.seed(args.seed)  # the same initial weights for both models
    return VAE((1, 28, 28), z_dim=args.z_dim, hidden=args.hidden, num_classes=10, arch=args.arch)


@torch.no_grad()
def _network_elbo(net, guide, data, batch_size: int = 500, seed: int = 0) -> float:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        total = sum(float(elbo_given_class(net, guide, data.images[i:i + batch_size],
                                           data.labels[i:i + batch_size]).sum())
                    for i in range(0, len(data.images), batch_size))
    return total / len(data.images)


@torch.no_grad()
def _accuracy(draw, classifier, per_class: int) -> float:
    labels = torch.arange(10).repeat_interleave(per_class)
    images = torch.cat([draw(k) for k in range(10)])
    return conditional_accuracy(classifier(images).argmax(-1), labels)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--z-dim", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--arch", default="mlp", help="probgen.vae architecture: mlp or conv")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--per-class", type=int, default=500, help="samples per class for the accuracy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 512 images (a smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.epochs, args.per_class = 1, 10
    train = load_dataset("mnist-5k", "train", binarize="stochastic", seed=args.seed)
    test = load_dataset("mnist-5k", "test", binarize="stochastic", seed=args.seed + 1)
    if args.quick:
        train = type(train)(train.images[:512], train.labels[:512])
        test = type(test)(test.images[:200], test.labels[:200])
    pyro.clear_param_store()
    ref, src = _vae(args), _vae(args)
    bn, guide = BayesNet(cvae_graph(src.decoder, args.z_dim)), CVAEGuide(src.encoder)
    net = bn.engine  # the bound HybridNetwork behind bn (the same modules)
    svi_ref = SVI(ref.model, ref.guide, pyro.optim.Adam({"lr": args.lr}), Trace_ELBO())
    svi_net = SVI(bn.model, guide, pyro.optim.Adam({"lr": args.lr}), Trace_ELBO())
    loader = make_loader(train, args.batch_size, shuffle=True, seed=args.seed)
    secs = {"vae": 0.0, "net": 0.0}
    for epoch in range(args.epochs):
        loader.set_epoch(epoch)
        for i, (x, y) in enumerate(loader):  # alternate: one step of each on the same batch
            step_seed = (args.seed * 1_000 + epoch) * 1_000 + i
            t0 = time.perf_counter()
            with torch.random.fork_rng():  # common random numbers: both steps draw the same eps
                torch.manual_seed(step_seed)
                svi_ref.step(x, y)
            t1 = time.perf_counter()
            with torch.random.fork_rng():
                torch.manual_seed(step_seed)
                svi_net.step({"x": x, "y": y})
            secs["vae"] += t1 - t0
            secs["net"] += time.perf_counter() - t1
        print(f"epoch {epoch + 1}: vae {secs['vae']:.1f} s, network {secs['net']:.1f} s", file=sys.stderr)
    classifier = load_classifier("mnist-5k")
    rows = [
        ("`probgen.vae.VAE(num_classes=10)`", evaluate_elbo(ref, test),
         _accuracy(lambda k: ref.sample(args.per_class, y=k), classifier, args.per_class), secs["vae"]),
        ("hybrid network y -> x <- z (NeuralCPD)", _network_elbo(net, guide, test),
         _accuracy(lambda k: sample_class(net, k, args.per_class), classifier, args.per_class), secs["net"]),
    ]
    print(f"\nconditional VAE on mnist-5k ({'quick' if args.quick else 'full'}): {args.epochs} epochs, "
          f"{args.arch}, z_dim {args.z_dim}, hidden {args.hidden}, batch {args.batch_size}, lr {args.lr}, "
          f"seed {args.seed}, "
          f"torch threads {args.threads}\n")
    print("| model | test ELBO (nats/image) | class accuracy of samples given y | train s/epoch |")
    print("| --- | ---: | ---: | ---: |")
    for name, elbo, acc, sec in rows:
        print(f"| {name} | {elbo:.2f} | {acc:.3f} | {sec / args.epochs:.2f} |")
    seen = _accuracy(lambda k: bn.sample(args.per_class, evidence={"y": k})["x"], classifier, args.per_class)
    done = _accuracy(lambda k: bn.intervene({"y": k}).sample(args.per_class)["x"], classifier, args.per_class)
    print(f"\nnetwork, binary draws: bn.sample(n, evidence={{'y': k}}) accuracy {seen:.3f}, "
          f"bn.intervene({{'y': k}}).sample(n) accuracy {done:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
