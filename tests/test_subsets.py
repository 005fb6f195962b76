"""No evaluation, figure or reference panel sees a class-biased subset of mnist-5k (shipped label-sorted)."""

import pytest
import torch

from probgen.data import load_dataset


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("n", [64, 100, 200, 500])
def test_first_n_of_an_offline_split_has_every_class(split, n):
    labels = load_dataset("mnist-5k", split).labels[:n]
    counts = torch.bincount(labels, minlength=10)
    assert (counts > 0).all(), f"the first {n} {split} images miss classes: counts {counts.tolist()}"
    assert counts.max() <= 3 * n / 10, f"the first {n} {split} images are unbalanced: {counts.tolist()}"


def test_digits_first_n_has_every_class():
    assert len(torch.unique(load_dataset("digits", "test").labels[:100])) == 10


def test_iwae_evaluation_subset_has_every_class():
    from probgen.vae import train as vae_train

    seen = []

    class Recorder:
        num_classes, device = None, "cpu"

        def log_likelihood(self, x, y=None, num_samples=1):
            seen.append(x)
            return torch.zeros(len(x))

    test = load_dataset("mnist-5k", "test")
    # a label-sorted copy: the evaluation must still sample every class
    order = test.labels.argsort(stable=True)
    sorted_test = type(test)(test.images[order], test.labels[order])
    vae_train.evaluate_iwae(Recorder(), sorted_test, num_samples=1, num_images=100)
    picked = torch.cat(seen).flatten(1)
    match = (picked[:, None] == sorted_test.images.flatten(1)[None]).all(-1).float().argmax(1)
    assert len(torch.unique(sorted_test.labels[match])) == 10


def test_classifier_max_train_subset_has_every_class():
    from probgen.metrics.classifier import training_subset

    labels = load_dataset("mnist-5k", "train").labels
    order = labels.argsort(stable=True)  # even on a label-sorted copy
    assert len(torch.unique(labels[order][training_subset(len(labels), 100, seed=0)])) == 10
    assert len(training_subset(len(labels), None, seed=0)) == len(labels)
