"""GaussianCPD, SoftmaxCPD and NeuralCPD: parameters, layouts, densities, samples and bad input."""

import math

import pyro.distributions as dist
import pytest
import torch
from torch import nn

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, NeuralCPD, SoftmaxCPD


def test_gaussian_cpd_density_matches_formula():
    cpd = GaussianCPD(parents=["x", "y"], weights=[0.5, -2.0], bias=1.0, variance=4.0)
    x, y, v = torch.tensor([0.0, 1.0, 3.0]), torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1.0, 0.0, -3.0])
    loc = 1.0 + 0.5 * x - 2.0 * y
    want = -0.5 * (v - loc) ** 2 / 4.0 - 0.5 * math.log(2 * math.pi * 4.0)
    got = cpd.log_prob(v, {"x": x, "y": y})
    assert got.dtype == torch.float64
    assert torch.allclose(got, want.double(), atol=1e-12)
    assert cpd.sample({"x": x, "y": y}, (7,)).shape == (7, 3)


def test_clg_layout_leading_axes_are_discrete_parents_in_order():
    # parents (x, d1, d2): discrete d1 (2 states), d2 (3 states); one continuous parent x.
    bias = torch.arange(6.0).reshape(2, 3)
    weights = torch.arange(6.0).reshape(2, 3, 1) / 10
    var = torch.full((2, 3), 0.5)
    net = HybridNetwork({
        "d1": TabularCPD(["a", "b"], [0.5, 0.5]),
        "d2": TabularCPD([0, 1, 2], [0.2, 0.3, 0.5]),
        "x": GaussianCPD(),
        "y": GaussianCPD(["x", "d1", "d2"], weights=weights, bias=bias, variance=var),
    })
    cpd = net.cpds["y"]
    assert cpd.discrete_parents == ["d1", "d2"] and cpd.continuous_parents == ["x"]
    d = cpd.distribution({"d1": torch.tensor([1, 0]), "d2": torch.tensor([2, 1]),
                          "x": torch.tensor([10.0, 1.0])})
    assert torch.allclose(d.mean, torch.tensor([5.0 + 0.5 * 10, 1.0 + 0.1 * 1], dtype=torch.float64))
    assert torch.allclose(d.variance, torch.tensor([0.5, 0.5], dtype=torch.float64))


def test_clg_shared_variance_broadcasts():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]),
                         "x": GaussianCPD(["d"], bias=[0.0, 3.0], variance=2.0)})
    assert net.cpds["x"].variance.shape == (2,)
    assert torch.equal(net.cpds["x"].variance, torch.tensor([2.0, 2.0], dtype=torch.float64))


@pytest.mark.parametrize("kw, match", [
    (dict(variance=0.0), "variance.*> 0"),
    (dict(variance=-1.0), "variance.*> 0"),
    (dict(variance=[1.0, -0.5], bias=[0.0, 0.0], parents=["d"]), r"variance.*configuration \(1,\)"),
    (dict(bias=float("nan")), "NaN or infinite"),
    (dict(parents=["x"], weights=[float("inf")]), "NaN or infinite"),
    (dict(parents=["x", "y"], weights=[1.0]), r"trailing axes must be \(2,\)"),
    (dict(parents=["x"]), "weights.*missing"),
    (dict(parents=["x"], weights=[[1.0], [2.0]], bias=[[0.0], [1.0]]), "leading axes"),
])
def test_gaussian_cpd_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        GaussianCPD(**kw)


def test_gaussian_cpd_errors_in_a_network_name_the_node():
    with pytest.raises(ValueError, match=r"GaussianCPD of 'y'.*1 leading axes.*discrete parents are \[\]"):
        HybridNetwork({"x": GaussianCPD(), "w": GaussianCPD(),
                       "y": GaussianCPD(["x", "w"], weights=[[1.0], [2.0]], bias=[0.0, 1.0])})
    with pytest.raises(ValueError, match="weights.*missing.*discrete_parents"):
        GaussianCPD(["d"], bias=1.0)
    with pytest.raises(ValueError, match="GaussianCPD of 'y'.*bias.*cardinalities \\[2\\] need \\(2,\\)"):
        HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]),
                       "y": GaussianCPD(["d"], bias=[1.0, 2.0, 3.0])})


def test_softmax_cpd_probabilities_and_discrete_parent_axes():
    cpd = SoftmaxCPD(["lo", "mid", "hi"], parents=["x"], weights=[[0.0], [1.0], [2.0]], bias=[0.0, 0.5, -1.0])
    x = torch.tensor([0.0, 1.5])
    logits = torch.tensor([[0.0, 0.5, -1.0], [0.0, 2.0, 2.0]], dtype=torch.float64)
    assert torch.allclose(cpd.distribution({"x": x}).probs, logits.softmax(-1))
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]), "x": GaussianCPD(),
                         "c": SoftmaxCPD(["no", "yes"], ["d", "x"],
                                         weights=[[[0.0], [1.0]], [[0.0], [-1.0]]])})
    p = net.cpds["c"].distribution({"d": torch.tensor([0, 1]), "x": torch.tensor([2.0, 2.0])}).probs
    assert torch.allclose(p[:, 1], torch.tensor([2.0, -2.0], dtype=torch.float64).sigmoid())


class _Head(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.lin(x)


def _image_parents():
    return {"y": TabularCPD(list(range(3)), [1 / 3] * 3), "z": GaussianCPD()}


def test_neural_cpd_image_node_shapes_and_onehot_encoding():
    module = _Head(3 + 1, 2 * 4)
    cpd = NeuralCPD(module, lambda logits: dist.Bernoulli(logits=logits.reshape(-1, 1, 2, 4)),
                    parents=["y", "z"], event_shape=(1, 2, 4))
    net = HybridNetwork({**_image_parents(), "x": cpd})
    s = net.sample(5)
    assert s["x"].shape == (5, 1, 2, 4)
    lp = net.cpds["x"].log_prob(s["x"], {"y": s["y"], "z": s["z"]})
    assert lp.shape == (5,)
    # the module saw one-hot y then z
    inputs, _ = net.cpds["x"]._inputs({"y": torch.tensor([2]), "z": torch.tensor([0.5])})
    assert torch.equal(inputs[0], torch.tensor([[0.0, 0.0, 1.0, 0.5]]))


def test_neural_cpd_wrong_output_shape_is_caught_at_build_naming_the_node():
    cpd = NeuralCPD(_Head(4, 7), lambda logits: dist.Bernoulli(logits=logits), parents=["y", "z"],
                    event_shape=(1, 2, 4))
    with pytest.raises(ValueError, match=r"NeuralCPD of 'x'.*batch shape \(2, 7\).*expected batch \(2,\) and "
                                         r"event shape \(1, 2, 4\)"):
        HybridNetwork({**_image_parents(), "x": cpd})


def test_neural_cpd_failing_module_and_discrete_support_errors():
    cpd = NeuralCPD(_Head(5, 2), dist.Normal, parents=["y", "z"])  # input size wrong: 4 needed
    with pytest.raises(ValueError, match="NeuralCPD of 'x': one dummy forward.*failed"):
        HybridNetwork({**_image_parents(), "x": cpd})
    bad = NeuralCPD(_Head(1, 3), lambda lg: dist.Categorical(logits=lg), parents=["z"], states=["a", "b"])
    with pytest.raises(ValueError, match="NeuralCPD of 'c'.*2 states.*0..1"):
        HybridNetwork({"z": GaussianCPD(), "c": bad})


def test_neural_cpd_discrete_node_with_embedding_raw_encoding():
    class Emb(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(3, 4)

        def forward(self, y, z):
            return self.emb(y) + z.unsqueeze(-1)

    cpd = NeuralCPD(Emb(), lambda lg: dist.Categorical(logits=lg), parents=["y", "z"],
                    states=list("abcd"), parent_encoding="raw")
    net = HybridNetwork({**_image_parents(), "c": cpd})
    assert net.is_discrete("c") and net.card("c") == 4
    s = net.sample(6)
    assert s["c"].dtype == torch.long and s["c"].shape == (6,)
    # batches of any shape are flattened for the module and restored
    d = net.cpds["c"].distribution({"y": torch.zeros(2, 3, dtype=torch.long), "z": torch.zeros(3)})
    assert d.batch_shape == (2, 3)


@pytest.mark.parametrize("make", [
    lambda states: TabularCPD(states, [0.5, 0.5]),
    lambda states: SoftmaxCPD(states, ["x"], weights=[[0.0], [1.0]]),
    lambda states: NeuralCPD(nn.Linear(1, 2), dist.Categorical, parents=["x"], states=states),
])
def test_every_discrete_cpd_refuses_states_equal_as_text(make):
    """One rule for state names on every discrete node: the state encoder matches values by their text, so
    1 and "1" would name one state."""
    with pytest.raises(ValueError, match=r"duplicate state names \[\"'1'\"\]"):
        make([1, "1"])
    with pytest.raises(ValueError, match="`states` is empty"):
        make([])
