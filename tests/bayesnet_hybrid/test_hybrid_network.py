"""HybridNetwork: graph checks, topological order, families, and evidence that names the node when wrong."""

import pyro
import pytest
import torch

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, SoftmaxCPD, encode_values
from probgen.bayesnet.hybrid.evidence import parse_targets
from probgen.bayesnet.hybrid.network import check_hybrid_graph


def _mixed():
    return HybridNetwork({
        "y": GaussianCPD(["x"], weights=[1.0]),  # declared before its parent: reordered
        "x": GaussianCPD(),
        "d": TabularCPD(["a", "b"], [0.4, 0.6]),
    })


def test_order_is_topological_and_families():
    net = _mixed()
    assert net.nodes == ["x", "y", "d"] and net.declared == ["y", "x", "d"]
    assert net.family == "clg"
    assert HybridNetwork({"x": GaussianCPD(), "y": GaussianCPD(["x"], weights=[2.0])}).family == "gaussian"
    soft = HybridNetwork({"x": GaussianCPD(), "c": SoftmaxCPD(["n", "y"], ["x"], weights=[[0.0], [1.0]])})
    assert soft.family == "hybrid" and soft.discrete_nodes == ["c"]
    assert "2 discrete" not in repr(soft) and "hybrid" in repr(soft)


def test_discrete_child_of_continuous_parent_without_link_names_node_and_edge():
    with pytest.raises(ValueError, match=r"discrete node 'c' has the continuous parent 'x' \(edge x -> c\).*"
                                         "SoftmaxCPD"):
        HybridNetwork({"x": GaussianCPD(), "c": TabularCPD(["a", "b"], [[0.5, 0.5]], parents=["x"])})


@pytest.mark.parametrize("cpds, err, match", [
    ({"a": GaussianCPD(["b"], weights=[1.0]), "b": GaussianCPD(["a"], weights=[1.0])}, ValueError,
     "cycle: (a -> b -> a|b -> a -> b)"),
    ({"a": GaussianCPD(["ghost"], weights=[1.0])}, ValueError, r"parent 'ghost'.*edge ghost -> a"),
    ({"rows": GaussianCPD()}, ValueError, "reserved"),
    ({"a": "not a cpd"}, TypeError, "node 'a'.*conditional must be one of"),
    ({}, TypeError, "non-empty dict"),
])
def test_graph_errors(cpds, err, match):
    with pytest.raises(err, match=match):
        check_hybrid_graph(cpds)


def test_gaussian_parent_must_be_scalar():
    from probgen.bayesnet.hybrid import NeuralCPD

    class Const(torch.nn.Module):
        def forward(self, x):
            return torch.zeros(len(x), 3)

    img = NeuralCPD(Const(), lambda m: pyro.distributions.Normal(m, 1.0), ["z"], event_shape=(3,))
    with pytest.raises(ValueError, match="GaussianCPD of 'y': parent 'img' is continuous of shape"):
        HybridNetwork({"z": GaussianCPD(), "img": img, "y": GaussianCPD(["img"], weights=[1.0])})


def test_encode_values_kinds_and_rows():
    net = _mixed()
    obs = encode_values(net, {"x": 1.5, "d": ["b", "a", "b"]})
    assert obs.num_rows == 3 and obs.batched
    assert torch.equal(obs.values["d"], torch.tensor([1, 0, 1]))
    assert obs.values["x"].dtype == torch.float64 and obs.values["x"].tolist() == [1.5] * 3
    one = encode_values(net, {"d": 1})
    assert not one.batched and one.values["d"].tolist() == [1]


@pytest.mark.parametrize("evidence, err, match", [
    ({"x": "high"}, TypeError, "continuous node 'x'.*state name 'high'"),
    ({"d": 0.5}, TypeError, "discrete node 'd'.*float 0.5"),
    ({"d": torch.tensor([0.0, 1.0])}, TypeError, "discrete node 'd'.*float32 tensor"),
    ({"d": "c"}, ValueError, "unknown state 'c'.*\\['a', 'b'\\]"),
    ({"x": float("nan")}, ValueError, "'x' is nan; values must be finite"),
    ({"x": torch.tensor([0.0, float("inf")])}, ValueError, "'x' in row 1 is inf"),
    ({"xx": 1.0}, ValueError, "unknown node 'xx'; did you mean 'x'"),
    ({"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]}, ValueError, "different numbers of rows"),
])
def test_bad_evidence_names_the_node(evidence, err, match):
    with pytest.raises(err, match=match):
        encode_values(_mixed(), evidence)


def test_parse_targets():
    net = _mixed()
    assert parse_targets(net, None, ["x"]) == ["y", "d"]
    assert parse_targets(net, ["d", "y"], []) == ["y", "d"]
    with pytest.raises(ValueError, match="query node 'x' is also observed"):
        parse_targets(net, "x", ["x"])
