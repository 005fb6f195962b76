"""SampleEvaluator: the metric sanity ordering on real data, the API contract, input checks."""

import pytest
import torch

from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator

KEYS = {"fid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl"}


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the data cache of this test session, as in conftest
        mp.setenv("PROBGEN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield SampleEvaluator("mnist-5k", split="test", device="cpu")


@pytest.fixture(scope="module")
def train():
    data = load_dataset("mnist-5k", "train")
    idx = torch.randperm(len(data.labels), generator=torch.Generator().manual_seed(0))[:1000]
    return data.images[idx], data.labels[idx]  # (1000, 1, 28, 28), (1000,): all classes


def test_metric_sanity_ordering(ev, train):
    """FID(test, train) is far below FID(test, noise) and FID(test, one repeated digit)."""
    x, y = train
    gen = torch.Generator().manual_seed(1)
    noise = (0.5 + 0.5 * torch.randn(1000, 1, 28, 28, generator=gen)).clamp(0, 1)
    one = x[:1].expand(1000, -1, -1, -1)
    real, bad_noise, bad_one = ev.evaluate(x, y), ev.evaluate(noise), ev.evaluate(one)
    assert set(real) == KEYS | {"cond_accuracy"} and set(bad_noise) == KEYS
    assert real["fid"] < 20 and real["fid"] * 20 < min(bad_noise["fid"], bad_one["fid"])
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.02 and real["cond_accuracy"] > 0.97
    assert bad_one["classes_covered"] == 1 and bad_one["class_kl"] == pytest.approx(2.302585, abs=1e-6)
    assert real["recall"] > 0.8 and real["coverage"] > 0.9 and 0.8 < real["density"] < 1.2
    for bad in (bad_noise, bad_one):
        assert bad["recall"] < 0.05 and bad["coverage"] < 0.05
    assert ev.fid(x) == pytest.approx(real["fid"], rel=1e-12)


def test_conditional_accuracy_tracks_the_labels(ev, train):
    x, y = train
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(2))]
    assert ev.evaluate(x, shuffled)["cond_accuracy"] < 0.2  # chance is 0.1


def test_batching_and_devices_do_not_change_the_metric(ev, train):
    x, _ = train
    small = SampleEvaluator("mnist-5k", device="cpu", classifier=ev.classifier, batch_size=64)
    assert small.fid(x[:300]) == pytest.approx(ev.fid(x[:300]), rel=1e-6)
    assert torch.equal(small.predict(x[:300]), ev.predict(x[:300]))
    assert "real=1000" in repr(ev)


def test_digits_evaluator():
    ev8 = SampleEvaluator("digits", device="cpu")
    x = load_dataset("digits", "train").images  # (1442, 1, 8, 8)
    out = ev8.evaluate(x)
    assert out["classes_covered"] == 10 and out["fid"] < ev8.fid(torch.rand(500, 1, 8, 8)) / 10


@pytest.mark.parametrize("images, err, match", [
    (torch.rand(10, 28, 28), ValueError, r"\(B, 1, 28, 28\); add the channel axis with images.unsqueeze"),
    (torch.rand(10, 3, 32, 32), ValueError, r"has shape \(10, 3, 32, 32\)"),
    (torch.rand(10, 1, 28, 28) * 2 - 1, ValueError, r"tanh outputs in \[-1, 1\]: pass \(images \+ 1\) / 2"),
    (torch.rand(10, 1, 28, 28) * 255, ValueError, "0..255 pixels"),
    ((torch.rand(10, 1, 28, 28) * 255).to(torch.uint8), TypeError, "images.float\\(\\) / 255"),
    (torch.full((10, 1, 28, 28), float("nan")), ValueError, "NaN"),
    (torch.rand(4, 1, 28, 28), ValueError, "k-NN metrics need more than 5"),
    ([[0.0]], TypeError, "must be a torch.Tensor"),
])
def test_bad_images_give_clear_errors(ev, images, err, match):
    with pytest.raises(err, match=match):
        ev.evaluate(images)


def test_bad_arguments_give_clear_errors(ev):
    with pytest.raises(ValueError, match=r"`labels` must be a \(10,\) tensor"):
        ev.evaluate(torch.rand(10, 1, 28, 28), labels=torch.zeros(9, dtype=torch.long))
    with pytest.raises(ValueError, match="has no metric classifier"):
        SampleEvaluator("cifar10")
    with pytest.raises(ValueError, match="is not a split"):
        SampleEvaluator("mnist-5k", split="val")
    with pytest.raises(ValueError, match="at least 2 images"):
        ev.fid(torch.rand(1, 1, 28, 28))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_evaluator_matches_cpu(ev, train):
    x, _ = train
    gpu = SampleEvaluator("mnist-5k", device="cuda")
    assert gpu.fid(x.cuda()) == pytest.approx(ev.fid(x), rel=1e-3)  # TF32/cuDNN vs CPU float32 features
    assert (gpu.predict(x) == ev.predict(x)).double().mean() > 0.995
