"""Scoring the trained models of ``probgen compare`` alike, and the memorisation check.

One :class:`~probgen.metrics.SampleEvaluator` (the shipped classifier's features of the test split) scores
``num_samples`` images of every model, ``repeats`` times, through :func:`probgen.compare.compare_models`;
its ``training data`` row (seeded random subsets of the training split) is the reference a perfect
generator would reach at that N. Conditional models are asked for class-stratified labels (0, 1, ..., 9,
0, ...). The explicit models' test log-likelihood is IWAE on a seeded random subset of a fixed binarised
copy of the test split (never its first images: mnist-5k is stored sorted by label).

Memorisation: the pixel-space L2 distance from each sample to its nearest training image, averaged, set
against the same distance for real test digits (seeded random subset). A model that copies its training
set sits well below the test digits; one that generates new digits sits near or above them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from probgen.compare.core import ModelReport, compare_models
from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator

IWAE_QUICK, IWAE_FULL = (8, 100), (100, 500)  # (importance samples k, test images)
NN_SHOWN = 8  # samples per model in the nearest-neighbour grid


@dataclass
class Evaluation:
    """The reports (data row first), each model's nearest-neighbour check and the test digits' one."""

    reports: list[ModelReport]
    nn_mean: dict[str, float]  # model name -> mean L2 distance of its samples to the nearest training image
    nn_pairs: dict[str, tuple[torch.Tensor, torch.Tensor]]  # name -> (samples, their nearest training images)
    test_nn_mean: float  # the same distance for real test digits
    iwae: tuple[int, int]  # (k, test images)


@torch.no_grad()
def nearest(x: torch.Tensor, train: torch.Tensor, chunk: int = 250) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel L2 distance (n,) and index (n,) from each image of x (n, C, H, W) to its nearest of train."""
    flat = train.flatten(1)  # (M, D)
    dists, idx = [], []
    for i in range(0, len(x), chunk):
        d = torch.cdist(x[i : i + chunk].flatten(1), flat)  # (b, M)
        m = d.min(1)
        dists.append(m.values)
        idx.append(m.indices)
    return torch.cat(dists), torch.cat(idx)


def evaluate(trained: list, cfg, show: bool) -> Evaluation:
    """Score every trained model (``probgen.compare.train.Trained``) under ``cfg`` (a CompareConfig)."""
    if show:
        print(f"evaluating: {cfg.samples} samples per model, {cfg.sample_sets} sample sets", flush=True)
    evaluator = SampleEvaluator(cfg.data, "test", device=cfg.device)
    k = (IWAE_QUICK if cfg.quick else IWAE_FULL)[0]
    images, labels = likelihood_subset(cfg)
    reports = compare_models(
        {t.name: t.model for t in trained}, evaluator=evaluator, num_samples=cfg.samples,
        likelihood_data=images, likelihood_labels=labels, likelihood_samples=k,
        seed=cfg.seed, repeats=cfg.sample_sets,
        budgets={t.name: {"steps": t.steps, "train_s": round(t.seconds, 1)} for t in trained})
    for r in reports:
        if r.name.startswith("DDPM"):
            r.kind = "explicit"  # a density model, but its bound is not estimated here (see the reading)
    return Evaluation(reports, *_memorisation(reports, cfg), iwae=(k, len(images)))


def likelihood_subset(cfg) -> tuple[torch.Tensor, torch.Tensor]:
    """The IWAE test images (M, C, H, W) in {0, 1} and labels (M,): a seeded random subset of a fixed
    binarised copy of the test split (M = 100 quick, 500 full)."""
    m = (IWAE_QUICK if cfg.quick else IWAE_FULL)[1]
    test_bin = load_dataset(cfg.data, "test", binarize="stochastic", seed=cfg.seed + 1)
    pick = torch.randperm(len(test_bin.images), generator=torch.Generator().manual_seed(cfg.seed))[:m]
    return test_bin.images[pick], test_bin.labels[pick]


def _memorisation(reports: list[ModelReport], cfg) -> tuple[dict, dict, float]:
    train = load_dataset(cfg.data, "train").images
    test = load_dataset(cfg.data, "test").images
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    test = test[torch.randperm(len(test), generator=gen)[: cfg.samples]]
    test_mean = float(nearest(test, train)[0].mean())
    means, pairs = {}, {}
    for r in reports:
        if r.kind == "data":
            continue
        dist, idx = nearest(r.samples, train)
        means[r.name] = float(dist.mean())
        shown = torch.randperm(len(r.samples), generator=gen)[:NN_SHOWN]
        pairs[r.name] = (r.samples[shown], train[idx[shown]])
    return means, pairs, test_mean
