import pytest
import torch

from probgen.compare import comparison_figure, comparison_table, compare_models, model_kind
from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator


class Replay:
    """An 'implicit model' that replays real images (a perfect generator, up to sample size)."""

    def __init__(self, images):
        self.images = images

    def sample(self, n):
        return self.images[torch.randint(len(self.images), (n,))]


class Noise:
    def sample(self, n):
        return torch.rand(n, 1, 28, 28)


class ExplicitNoise(Noise):
    """An 'explicit model': independent Bernoulli(0.5) pixels, log p(x) = 784 log 0.5 for binary x."""

    def log_likelihood(self, x, num_samples=1):
        return torch.full((len(x),), 784 * torch.log(torch.tensor(0.5)).item())


class Conditional:
    num_classes = 10

    def __init__(self, data):
        self.data = data

    def sample(self, n, y=None):
        out = torch.empty(n, 1, 28, 28)
        for c in range(10):
            pool = self.data.images[self.data.labels == c]
            k = int((y == c).sum())
            out[y == c] = pool[torch.randint(len(pool), (k,))]
        return out


@pytest.fixture(scope="module")
def evaluator():
    return SampleEvaluator("mnist-5k", "test", device="cpu")


def test_models_are_scored_alike_and_ordered(evaluator, tmp_path):
    train = load_dataset("mnist-5k", "train")
    binary_test = (load_dataset("mnist-5k", "test").images[:20] > 0.5).float()
    reports = compare_models(
        {"replay": Replay(train.images), "noise": ExplicitNoise(), "cond": Conditional(train)},
        evaluator=evaluator, num_samples=300, likelihood_data=binary_test, likelihood_samples=1,
    )
    by = {r.name: r for r in reports}
    assert list(by) == ["training data", "replay", "noise", "cond"]
    assert by["replay"].metrics["fid"] < 0.1 * by["noise"].metrics["fid"]
    assert by["replay"].metrics["classes_covered"] == 10
    assert by["noise"].log_likelihood == pytest.approx(784 * -0.6931472, rel=1e-6)
    assert by["replay"].log_likelihood is None and by["replay"].kind == "implicit"
    assert by["cond"].metrics["cond_accuracy"] > 0.9  # the classifier recognises the requested digits
    table = comparison_table(reports)
    assert "| replay | implicit |" in table and "n/a" in table and "cond_accuracy" in table
    assert comparison_figure(reports, tmp_path / "cmp.png").stat().st_size > 1000


def test_model_kind():
    assert model_kind(ExplicitNoise()) == "explicit" and model_kind(Noise()) == "implicit"


def test_bad_inputs(evaluator):
    with pytest.raises(ValueError, match="`models` is empty"):
        compare_models({}, evaluator=evaluator)
    with pytest.raises(TypeError, match="has no sample"):
        compare_models({"x": object()}, evaluator=evaluator, include_data=False)

    class Tanh:
        def sample(self, n):
            return torch.rand(n, 1, 28, 28) * 2 - 1

    with pytest.raises(ValueError, match=r"samples of 'tanh'.*\(images \+ 1\) / 2"):
        compare_models({"tanh": Tanh()}, evaluator=evaluator, include_data=False)
