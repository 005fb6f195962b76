"""Exact CLG inference against brute force: itertools over the discrete configurations, each one's
Gaussian by the recursive NumPy oracle, weights by SciPy densities."""

import numpy as np
import pytest
import torch
from hybrid_helpers import clg_bruteforce, small_clg

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, SoftmaxCPD, clg_posterior

EVIDENCE = [
    {"z": 1.3},
    {"z": -2.0, "e": 1},
    {"y": 0.4, "d": 0},
    {"x": 2.2, "z": 0.0},
    {"e": 2},
]


@pytest.mark.parametrize("form", ["information", "moment"])
@pytest.mark.parametrize("evidence", EVIDENCE)
def test_clg_matches_brute_force(evidence, form):
    net = small_clg()
    post = clg_posterior(net, evidence, form=form)
    for q in post.nodes:  # continuous: mixture mean, variance and density at a few points
        rows, log_ev = clg_bruteforce(net, evidence, q)
        w = np.array([r[1] for r in rows])
        m = np.array([r[2][0] for r in rows])
        v = np.array([r[2][1] for r in rows])
        mean = (w * m).sum()
        var = (w * (v + m**2)).sum() - mean**2
        assert post.mean(q).item() == pytest.approx(mean, rel=1e-10, abs=1e-12)
        assert post.variance(q).item() == pytest.approx(var, rel=1e-10)
        pts = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
        dens = (w * np.exp(-0.5 * (pts.numpy()[:, None] - m) ** 2 / v) / np.sqrt(2 * np.pi * v)).sum(-1)
        got = post.mixture(q).log_prob(pts.unsqueeze(-1)).exp().numpy().ravel()
        assert np.allclose(got, dens, rtol=1e-10)
        assert post.log_evidence.item() == pytest.approx(log_ev, abs=1e-10)
    for d, probs in post.discrete.items():
        rows, _ = clg_bruteforce(net, evidence, d)
        want = np.zeros(net.card(d))
        for config, wt, _ in rows:
            want[config[d]] += wt
        assert np.allclose(probs.numpy(), want, atol=1e-12)


def test_batched_rows_and_joint_mixture():
    net = small_clg()
    z = torch.tensor([1.3, -2.0, 0.0])
    post = clg_posterior(net, {"z": z, "e": ["v", "w", "u"]}, targets=["d", "x", "y"])
    assert post.probs("d").shape == (3, 2) and post.weights.shape[0] == 3
    for r in range(3):
        one = clg_posterior(net, {"z": float(z[r]), "e": ["v", "w", "u"][r]}, targets=["d", "x", "y"])
        assert torch.allclose(post.probs("d")[r], one.probs("d"), atol=1e-12)
        assert torch.allclose(post.mean("x")[r], one.mean("x"), atol=1e-12)
    joint = post.mixture_joint(["x", "y"])
    assert joint.batch_shape == (3,) and joint.event_shape == (2,)
    assert torch.allclose(joint.mean[:, 0], post.mean("x"), atol=1e-12)


def test_too_many_configurations_is_refused_with_the_count():
    cpds = {f"d{i}": TabularCPD(["a", "b", "c"], [1 / 3] * 3) for i in range(5)}
    cpds["x"] = GaussianCPD([f"d{i}" for i in range(5)], bias=torch.zeros(3, 3, 3, 3, 3), variance=1.0)
    net = HybridNetwork(cpds)
    with pytest.raises(ValueError, match="243 configurations.*max_configurations=100.*likelihood_weighting"):
        clg_posterior(net, {"x": 0.0}, max_configurations=100)
    assert clg_posterior(net, {"x": 0.0}).weights.shape == (1, 243)


def test_barren_discrete_nodes_are_not_enumerated():
    net = small_clg()  # asking about x given d needs neither e, y nor z
    post = clg_posterior(net, {"d": "b"}, targets=["x"], max_configurations=2)
    assert post.mean("x").item() == pytest.approx(2.0) and post.variance("x").item() == pytest.approx(0.5)


def test_impossible_evidence_and_non_clg_networks():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [1.0, 0.0]),
                         "x": GaussianCPD(["d"], bias=[0.0, 1.0], variance=1.0)})
    with pytest.raises(ValueError, match="probability zero"):
        clg_posterior(net, {"d": "b", "x": 0.0})
    soft = HybridNetwork({"x": GaussianCPD(), "c": SoftmaxCPD(["n", "y"], ["x"], weights=[[0.0], [1.0]])})
    with pytest.raises(ValueError, match=r"\['c'\] have softmax or neural.*likelihood_weighting"):
        clg_posterior(soft, {"c": "y"})
