"""The shipped metric classifiers: safe loading, accuracy, determinism of training, shapes."""

import pytest
import torch

from probgen.data import load_dataset
from probgen.errors import CheckpointError
from probgen.metrics import DigitClassifier, load_classifier, train_classifier
from probgen.metrics.classifier import CONFIGS, accuracy, random_shift, weights_path


@pytest.mark.parametrize("dataset, min_acc", [("mnist-5k", 0.98), ("digits", 0.97)])
def test_shipped_weights_load_safely_and_reach_their_recorded_accuracy(dataset, min_acc):
    raw = torch.load(weights_path(dataset), weights_only=True)  # no pickled code
    assert set(raw["state_dict"]) == set(DigitClassifier(CONFIGS[dataset][0]).state_dict())
    model = load_classifier(dataset)
    test = load_dataset(dataset, "test")
    acc = accuracy(model, test.images, test.labels)
    assert acc == pytest.approx(model.info["test_accuracy"], abs=1e-9)
    assert acc >= min_acc
    assert not any(p.requires_grad for p in model.parameters()) and not model.training


def test_training_is_deterministic_under_a_seed():
    a, info_a = train_classifier("digits", seed=3, epochs=1, max_train=200)
    b, info_b = train_classifier("digits", seed=3, epochs=1, max_train=200)
    c, _ = train_classifier("digits", seed=4, epochs=1, max_train=200)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.state_dict().values(), c.state_dict().values()))
    assert info_a["n_train"] == 200 and info_a["test_accuracy"] == info_b["test_accuracy"]


def test_saved_weights_round_trip(tmp_path):
    from probgen.metrics.classifier import save_classifier

    model, info = train_classifier("digits", seed=0, epochs=1, max_train=100)
    path = save_classifier(model, info, tmp_path / "c.pt")
    loaded = load_classifier("digits", path)
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="retrain with"):
        load_classifier("digits", tmp_path / "bad.pt")


@pytest.mark.parametrize("dataset", list(CONFIGS))
def test_shapes_and_gradients(dataset):
    cfg = CONFIGS[dataset][0]
    model = DigitClassifier(cfg)
    x = torch.rand(3, 1, cfg.image_size, cfg.image_size, requires_grad=True)
    assert model.features(x).shape == (3, cfg.hidden) and model.num_features == cfg.hidden
    model(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_random_shift_moves_content_without_changing_it():
    x = torch.zeros(50, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre
    y = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.all(y.sum((1, 2, 3)) == 1)  # still exactly one pixel
    rows, cols = y[:, 0].nonzero()[:, 1], y[:, 0].nonzero()[:, 2]
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # offsets vary across images


def test_unknown_dataset():
    with pytest.raises(ValueError, match="known: \\['mnist-5k', 'digits'\\]"):
        load_classifier("cifar10")
