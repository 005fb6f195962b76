"""Metric sanity table: probgen's sample metrics on real digits and on deliberately bad "generators".

Every row is scored by one ``SampleEvaluator("mnist-5k", split="test")`` (1,000 real test digits) on N
images: real training digits (the floor a perfect generator reaches at this N), blurred and half-erased
digits, one digit class only, a single repeated digit, and two kinds of noise. Then FID against sample
size for real digits (FID is biased upwards at small N). Also printed: the shipped
classifiers' test accuracy, torchmetrics' FID on the same features (an independent implementation; the two
FIDs must agree), and the time one ``evaluate`` call takes.

    python bench/metrics.py            # N = 1000 (the table in docs/benchmarks.md)
    python bench/metrics.py --quick    # N = 200, for the smoke test
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch.nn import functional as F

from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator, load_classifier
from probgen.metrics.classifier import accuracy

COLUMNS = ("fid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl")


def candidate_sets(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Named (n, 1, 28, 28) image sets in [0, 1], good to bad."""
    g = torch.Generator().manual_seed(seed)
    train = load_dataset("mnist-5k", "train")
    idx = torch.randperm(len(train.labels), generator=g)[:n]
    x = train.images[idx]  # (n, 1, 28, 28), every class
    zeros = train.images[train.labels == 0]
    return {
        "real train digits": x,
        "blurred train digits (3x3 box)": F.avg_pool2d(x, 3, 1, 1),
        "train digits, half the pixels erased": x * (torch.rand(x.shape, generator=g) > 0.5),
        "only digit 0": zeros[torch.randint(len(zeros), (n,), generator=g)],
        "one repeated digit": x[:1].expand(n, -1, -1, -1),
        "Gaussian noise N(0.5, 0.5^2), clamped": (0.5 + 0.5 * torch.randn(x.shape, generator=g)).clamp(0, 1),
        "uniform noise": torch.rand(x.shape, generator=g),
    }


def torchmetrics_fid(ev: SampleEvaluator, real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID from torchmetrics with the evaluator's classifier as its feature extractor (float64 features)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    class Features(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.num_features = ev.classifier, ev.classifier.num_features

        def forward(self, x):
            return self.net.features(x).double()

    tm = FrechetInceptionDistance(feature=Features(), normalize=True)
    with torch.no_grad():
        tm.update(real, real=True)
        tm.update(fake, real=False)
    return float(tm.compute())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N = 200 instead of 1000")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    n = 200 if args.quick else 1000

    print("| classifier | features | test accuracy |\n| --- | --- | --- |")
    for name in ("mnist-5k", "digits"):
        model, test = load_classifier(name), load_dataset(name, "test")
        print(f"| {name} ({model.info['n_train']} train) | {model.num_features} | "
              f"{accuracy(model, test.images, test.labels):.4f} ({len(test.labels)} test) |")

    ev = SampleEvaluator("mnist-5k", split="test", device="cpu")
    print(f"\nN = {n} images per row against the 1,000 mnist-5k test digits (k = 3 for P/R, 5 for D/C)\n")
    print("| images | " + " | ".join(COLUMNS) + " |\n|" + " --- |" * (len(COLUMNS) + 1))
    sets = candidate_sets(n)
    for name, images in sets.items():
        m = ev.evaluate(images)
        cells = [f"{m[c]:.1f}" if c == "fid" else str(m[c]) if c == "classes_covered" else f"{m[c]:.3f}"
                 for c in COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + " |")

    print("\nFID of N real train digits against the test split, mean +- s.d. over 5 random subsets\n")
    print("| N | FID |\n| --- | --- |")
    train = load_dataset("mnist-5k", "train").images
    for size in (200, 1000) if args.quick else (200, 500, 1000, 2000, 4000):
        gens = [torch.Generator().manual_seed(s) for s in range(5)]
        subsets = [torch.randperm(len(train), generator=g)[:size] for g in gens]
        fids = torch.tensor([ev.fid(train[idx]) for idx in subsets])
        print(f"| {size} | {fids.mean():.2f} +- {fids.std():.2f} |")

    real = load_dataset("mnist-5k", "test").images
    x = sets["real train digits"]
    ours, theirs = ev.fid(x), torchmetrics_fid(ev, real, x)
    print(f"\nFID(real train, test): probgen {ours:.6f}, torchmetrics (same features) {theirs:.6f}, "
          f"relative difference {abs(ours - theirs) / theirs:.1e}")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ev.evaluate(x)
        times.append(time.perf_counter() - t0)
    print(f"evaluate() on {n} images: {min(times):.3f} s (best of 3, {args.threads} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
