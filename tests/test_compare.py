import pytest
import torch

from probgen.compare import SampleView, compare_models, comparison_figure, comparison_table, model_kind
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


class CountingVAE:
    """An explicit model with two ways to sample (means / draws) that counts its likelihood calls."""

    def __init__(self):
        self.calls = 0

    def sample(self, n, mean=True):
        p = torch.full((n, 1, 28, 28), 0.3)
        return p if mean else torch.bernoulli(p)

    def log_likelihood(self, x, num_samples=1):
        self.calls += 1
        return torch.full((len(x),), -1.0)


class ConditionalExplicit(Conditional):
    """log p(x | y) = -y (a label-dependent oracle, to check the labels reach the model)."""

    def log_likelihood(self, x, y, num_samples=1):
        return -y.float()


def test_sample_view_binds_kwargs_and_scores_likelihood_once(evaluator):
    model = CountingVAE()
    draws = SampleView(model, mean=False)
    assert model_kind(draws) == "explicit" and set(draws.sample(5).unique().tolist()) <= {0.0, 1.0}
    reports = compare_models({"means": model, "draws": draws}, evaluator=evaluator, num_samples=50,
                             likelihood_data=torch.zeros(30, 1, 28, 28), include_data=False)
    assert model.calls == 1  # one IWAE pass (30 images, batches of 100) shared by both views
    assert [r.log_likelihood for r in reports] == [-1.0, -1.0]
    assert torch.all(reports[0].samples == 0.3) and set(reports[1].samples.unique().tolist()) == {0.0, 1.0}


def test_repeats_and_budgets(evaluator, tmp_path):
    train = load_dataset("mnist-5k", "train")
    reports = compare_models({"replay": Replay(train.images)}, evaluator=evaluator, num_samples=100,
                             repeats=3, budgets={"replay": {"grad_steps": 7, "train_s": 1.5}})
    data, replay = reports
    assert set(data.spread) == set(data.metrics) and replay.spread["fid"] > 0
    runs = [evaluator.evaluate(train.images[torch.randperm(len(train.images),
                                                           generator=torch.Generator().manual_seed(s))[:100]])
            for s in range(3)]  # the data row's subsets, recomputed: its FID is their mean
    assert data.metrics["fid"] == pytest.approx(sum(r["fid"] for r in runs) / 3, rel=1e-9)
    assert replay.budget == {"grad_steps": 7, "train_s": 1.5}
    table = comparison_table(reports)
    assert table.splitlines()[0].endswith("| grad_steps | train_s |") and " ± " in table
    assert "| 7 | 1.5 |" in table and table.splitlines()[2].endswith("|  |  |")
    assert comparison_figure(reports, tmp_path / "grid.png", ncols=1).stat().st_size > 1000  # 2 x 1 panels


def test_conditional_likelihood_gets_labels(evaluator):
    train = load_dataset("mnist-5k", "train")
    x, y = train.images[:40], train.labels[:40]
    (report,) = compare_models({"c": ConditionalExplicit(train)}, evaluator=evaluator, num_samples=50,
                               likelihood_data=x, likelihood_labels=y, include_data=False)
    assert report.log_likelihood == pytest.approx(-y.float().mean().item())
    with pytest.raises(ValueError, match="'c' is class-conditional.*likelihood_labels"):
        compare_models({"c": ConditionalExplicit(train)}, evaluator=evaluator, likelihood_data=x)
    with pytest.raises(ValueError, match=r"`likelihood_labels` must be a \(40,\) tensor"):
        compare_models({"c": ConditionalExplicit(train)}, evaluator=evaluator, likelihood_data=x,
                       likelihood_labels=y[:5])


def test_bad_repeats_and_budgets(evaluator):
    with pytest.raises(ValueError, match="`repeats` must be an int >= 1, got 0"):
        compare_models({"n": Noise()}, evaluator=evaluator, repeats=0)
    with pytest.raises(ValueError, match=r"`budgets` names \['typo'\]"):
        compare_models({"n": Noise()}, evaluator=evaluator, budgets={"typo": {}})
    with pytest.raises(TypeError, match="has no sample"):
        SampleView(object())
