"""Least-squares learning recovers known Gaussian and CLG parameters; tables by counting."""

import pytest
import torch
from hybrid_helpers import small_clg

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, fit_clg, load_gaussian_network


def test_fit_recovers_a_clg_network():
    """200,000 rows from small_clg; tolerance 0.02 on every weight, bias and variance (standard errors are
    about 0.005 at the rarest configuration), 0.01 on table entries."""
    truth = small_clg()
    data = truth.sample(200_000)
    fitted = fit_clg(truth, data)
    for n in truth.continuous_nodes:
        a, b = truth.cpds[n], fitted.cpds[n]
        assert b.discrete_parents == a.discrete_parents and b.continuous_parents == a.continuous_parents
        for name in ("bias", "weights", "variance"):
            assert torch.allclose(getattr(b, name), getattr(a, name), atol=0.02), (n, name)
    for n in truth.discrete_nodes:
        assert torch.allclose(fitted.cpds[n].probs, truth.cpds[n].probs, atol=0.01)


def test_fit_ecoli70_from_its_own_samples():
    truth = load_gaussian_network("ecoli70")
    data = truth.sample(50_000)
    fitted = fit_clg(truth, data)
    worst = max((fitted.cpds[n].weights - truth.cpds[n].weights).abs().max().item() if truth.parents(n)
                else 0.0 for n in truth.nodes)
    assert worst < 0.05
    rel_var = max(abs(fitted.cpds[n].variance.item() / truth.cpds[n].variance.item() - 1)
                  for n in truth.nodes)
    assert rel_var < 0.05


def test_fit_errors_name_the_node():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]),
                         "x": GaussianCPD(["d"], bias=[0.0, 1.0], variance=1.0)})
    with pytest.raises(ValueError, match=r"node 'x', discrete parents in states \{'d': 1\}: 0 rows"):
        fit_clg(net, {"d": ["a", "a", "a"], "x": [0.1, 0.2, 0.4]})
    with pytest.raises(ValueError, match="node 'd': no data for parent states|needs data columns"):
        fit_clg(net, {"x": [0.1, 0.2]})
    lin = HybridNetwork({"u": GaussianCPD(), "v": GaussianCPD(["u"], weights=[2.0])})
    with pytest.raises(ValueError, match="node 'v': the residual variance is 0"):
        fit_clg(lin, {"u": [0.0, 1.0, 2.0], "v": [1.0, 3.0, 5.0]})


def test_pseudo_counts_fill_empty_table_rows():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]),
                         "e": TabularCPD(["u", "v"], [[0.5, 0.5], [0.5, 0.5]], ["d"])})
    with pytest.raises(ValueError, match=r"node 'e': no data for parent states \{'d': 1\}; pass "
                                         "pseudo_count"):
        fit_clg(net, {"d": ["a", "a"], "e": ["u", "v"]})
    fitted = fit_clg(net, {"d": ["a", "a"], "e": ["u", "u"]}, pseudo_count=1.0)
    want = torch.tensor([[0.75, 0.25], [0.5, 0.5]], dtype=torch.float64)
    assert torch.allclose(fitted.cpds["e"].probs, want)
