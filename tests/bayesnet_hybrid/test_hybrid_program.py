"""The hybrid network's Pyro program: one site per node, the DAG's dependencies, the log joint, and
Predictive / poutine.condition / enumeration / SVI running on it unchanged."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from hybrid_helpers import mixed, small_clg
from pyro import poutine
from pyro.infer import SVI, Predictive, Trace_ELBO, TraceEnum_ELBO, config_enumerate
from pyro.infer.inspect import get_dependencies
from torch import nn

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import HybridNetwork, NeuralCPD, clg_posterior


def _independent_log_joint(net, v):
    """Each node's log density written out by hand (tables, Gaussian formula, softmax, the module)."""
    lp = torch.tensor([0.3, 0.7]).log()[v["d"]].double()
    loc, var = torch.tensor([-1.0, 1.0])[v["d"]], torch.tensor([0.5, 2.0])[v["d"]]
    lp = lp - 0.5 * (v["z"] - loc) ** 2 / var - 0.5 * torch.log(2 * math.pi * var)
    logits = torch.stack([torch.zeros_like(v["z"]), 1.5 * v["z"] - 0.5], -1)
    lp = lp + logits.log_softmax(-1).gather(-1, v["c"].unsqueeze(-1)).squeeze(-1)
    module = net.cpds["w"].module
    x = torch.cat([v["z"].float().unsqueeze(-1), nn.functional.one_hot(v["c"], 2).float()], -1)
    m, s = module(x)
    return lp + dist.Normal(m, s).log_prob(v["w"].float()).double()


def test_trace_sites_are_the_nodes_and_log_joint_is_the_sum():
    net = mixed()
    tr = poutine.trace(net.model).get_trace(num_rows=6)
    sites = [n for n, s in tr.nodes.items() if s["type"] == "sample" and not s["is_observed"]
             and n != "rows"]
    assert sites == net.nodes
    tr.compute_log_prob()
    values = {n: tr.nodes[n]["value"] for n in net.nodes}
    want = _independent_log_joint(net, values)
    per_row = sum(tr.nodes[n]["log_prob"].double() for n in net.nodes)
    assert torch.allclose(per_row, want, atol=1e-5)
    assert torch.allclose(net.log_prob(values), want, atol=1e-5)


def test_program_dependencies_are_the_dag():
    net = small_clg()
    deps = get_dependencies(net.model, (), {"num_rows": 2})["prior_dependencies"]
    for n in net.nodes:
        assert set(deps[n]) - {n} == set(net.parents(n)), n


def test_predictive_condition_and_observed_rows():
    net = mixed()
    draws = Predictive(net.model, num_samples=7)(num_rows=3)
    assert draws["d"].shape == (7, 3) and draws["w"].shape == (7, 3)
    fixed = poutine.condition(net.model, data={"z": torch.tensor([5.0, -5.0])})(num_rows=2)
    assert fixed["z"].tolist() == [5.0, -5.0]
    out = net.model({"c": ["hi", "lo", "hi"], "z": [0.0, 1.0, 2.0]})
    assert out["c"].tolist() == [1, 0, 1] and out["w"].shape == (3,)
    with pytest.raises(ValueError, match="num_rows"):
        net.model({"z": [0.0]}, num_rows=3)


def test_enumerated_program_gives_the_exact_evidence_density():
    """All continuous nodes observed, discrete ones enumerated: TraceEnum_ELBO's loss is -log p(e)."""
    net = small_clg()
    ev = {"x": torch.tensor([0.3, 2.5]), "y": torch.tensor([1.0, -0.5]), "z": torch.tensor([2.0, -1.0])}
    exact = clg_posterior(net, ev).log_evidence.sum()
    model = config_enumerate(lambda: net.model(ev), default="parallel")
    loss = TraceEnum_ELBO(max_plate_nesting=1).loss(model, lambda: None)
    assert -loss == pytest.approx(exact.item(), abs=1e-9)


class _Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 + 2, 16), nn.ReLU(), nn.Linear(16, 1 * 4 * 4))

    def forward(self, x):
        return self.net(x).reshape(-1, 1, 4, 4)


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16 + 3, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x, y):
        h = self.net(torch.cat([x.reshape(len(x), -1), nn.functional.one_hot(y, 3).float()], -1))
        return h[:, :2], nn.functional.softplus(h[:, 2:]) + 1e-3


def test_neural_network_trains_by_svi_and_samples_right_shapes():
    """A miniature conditional VAE as a three-node network: y (class), z (2-d style), x (4x4 image)."""
    from probgen.bayesnet.hybrid.program import hybrid_model

    z_cpd = NeuralCPD(_ConstPrior(), lambda m: dist.Normal(m, 1.0), parents=["y"], event_shape=(2,))
    x_cpd = NeuralCPD(_Decoder(), lambda lg: dist.Bernoulli(logits=lg), parents=["y", "z"],
                      event_shape=(1, 4, 4))
    net = HybridNetwork({"y": TabularCPD([0, 1, 2], [1 / 3] * 3), "z": z_cpd, "x": x_cpd})
    encoder = _Encoder()
    x = (torch.rand(32, 1, 4, 4) < 0.5).float()
    y = torch.randint(0, 3, (32,))

    def guide(data):
        pyro.module("encoder", encoder)
        loc, scale = encoder(data["x"], data["y"])
        with pyro.plate("rows", len(loc), dim=-1):
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    svi = SVI(lambda data: hybrid_model(net, data), guide, pyro.optim.Adam({"lr": 1e-2}), Trace_ELBO())
    losses = [svi.step({"x": x, "y": y}) for _ in range(30)]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    assert any(k.startswith("cpd_x$$$") for k in pyro.get_param_store().keys())
    draws = net.sample(5)
    assert draws["x"].shape == (5, 1, 4, 4) and draws["z"].shape == (5, 2) and draws["y"].shape == (5,)


class _ConstPrior(nn.Module):
    """A (fixed) zero mean for z whatever the class: the standard-normal prior of a conditional VAE."""

    def forward(self, onehot):
        return torch.zeros(len(onehot), 2)
