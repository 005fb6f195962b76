"""BayesNet with Gaussian, CLG, softmax and neural conditionals: the user-facing API of issue 10 on one class
(program, exact CLG and Gaussian queries against independent oracles, the method choice and its reason,
likelihood weighting converging, densities, sampling with evidence, interventions, fitting)."""

import math

import networkx as nx
import numpy as np
import pyro.distributions as dist
import pytest
import torch
from hybrid_helpers import clg_bruteforce, condition_dense, gaussian_params, mixed, moments, small_clg
from pyro import poutine
from test_hybrid_program import _independent_log_joint
from torch import nn

import probgen
from probgen.bayesnet import BayesNet, GaussianCPD, HybridBayesNet, NeuralCPD, TabularCPD, load_network


def as_bayesnet(net) -> BayesNet:
    """The engine's HybridNetwork as a networkx graph with a ``cpd`` per node, then a BayesNet."""
    g = nx.DiGraph()
    for n in net.declared:
        g.add_node(n, cpd=net.cpds[n])
    g.add_edges_from(net.edges)
    return BayesNet(g)


def test_a_table_only_graph_stays_a_discrete_bayesnet():
    g = nx.DiGraph([("a", "b")])
    g.nodes["a"]["cpd"] = TabularCPD(["x", "y"], [0.4, 0.6])
    g.nodes["b"]["cpd"] = TabularCPD(["u", "v"], [[0.9, 0.1], [0.2, 0.8]], parents=["a"])
    assert type(BayesNet(g)) is BayesNet
    bn = as_bayesnet(small_clg())
    assert type(bn) is HybridBayesNet and isinstance(bn, BayesNet) and bn.family == "clg"


def test_program_sites_are_the_nodes_and_log_joint_is_the_sum_of_node_densities():
    bn = as_bayesnet(mixed())
    tr = poutine.trace(bn.model).get_trace(num_rows=5)
    sites = [n for n, s in tr.nodes.items() if s["type"] == "sample" and n != "rows"]
    assert sites == bn.nodes == ["d", "z", "c", "w"]
    tr.compute_log_prob()
    values = {n: tr.nodes[n]["value"] for n in bn.nodes}
    want = _independent_log_joint(bn.engine, values)
    assert torch.allclose(sum(tr.nodes[n]["log_prob"].double() for n in bn.nodes), want, atol=1e-5)
    assert torch.allclose(bn.log_prob(values), want, atol=1e-5)


@pytest.mark.parametrize("evidence", [{"z": 1.3}, {"z": -0.4, "e": "v"}, {"y": 2.0}])
def test_clg_posterior_matches_brute_force(evidence):
    bn = as_bayesnet(small_clg())
    post = bn.posterior(evidence)
    assert post.method == "exact" and "CLG" in post.reason
    comps, log_ev = clg_bruteforce(bn.engine, {k: (bn.state_index(k, v) if bn.is_discrete(k) else v)
                                               for k, v in evidence.items()}, "x")
    p_d = sum(w for c, w, _ in comps if c["d"] == 0)
    assert float(post["d"][0]) == pytest.approx(p_d, abs=1e-10)
    mean_x = sum(w * m for _, w, (m, _) in comps)
    var_x = sum(w * (v + m * m) for _, w, (m, v) in comps) - mean_x**2
    assert isinstance(post["x"], dist.MixtureSameFamily)
    assert float(post["x"].mean) == pytest.approx(mean_x, abs=1e-9)
    assert float(post["x"].variance) == pytest.approx(var_x, abs=1e-9)
    assert float(bn.log_probability(evidence)) == pytest.approx(log_ev, abs=1e-9)


def test_gaussian_network_normals_joint_mvn_batched_rows_and_density():
    bn = load_network("ecoli70")
    assert bn.family == "gaussian" and len(bn.nodes) == 46
    rows = torch.tensor([0.5, 1.5, 2.5])
    post = bn.posterior({"asnA": 1.0, "lacA": rows}, joint=["lacZ", "lacY"])
    assert post.method == "exact" and isinstance(post["lacZ"], dist.Normal)
    assert post["lacZ"].batch_shape == (3,) and post.joint.batch_shape == (3,)
    assert post.joint.event_shape == (2,)
    order = bn.nodes
    mu, cov = moments(gaussian_params(bn.engine), order)
    obs = [order.index("asnA"), order.index("lacA")]
    mean, pcov, log_ev = condition_dense(mu, cov, obs, np.stack([np.ones(3), rows.numpy()], -1))
    hid = [n for n in order if n not in ("asnA", "lacA")]
    k = hid.index("lacZ")
    assert np.allclose(post["lacZ"].mean.numpy(), mean[:, k], rtol=1e-8, atol=1e-10)
    assert np.allclose(post["lacZ"].variance.numpy(), pcov[k, k], rtol=1e-8)
    dens = bn.probability({"asnA": 1.0, "lacA": rows})
    assert dens.shape == (3,) and np.allclose(dens.log().numpy(), log_ev, rtol=1e-8)


def test_method_choice_is_explained_and_exact_refused_where_it_does_not_exist():
    assert bn_explain(load_network("magic-niab")).startswith("exact (gaussian)")
    clg = as_bayesnet(small_clg())
    assert bn_explain(clg).startswith("exact (clg)")
    text = clg.explain_query({"z": 1.0}, max_configurations=2)
    assert text.startswith("lw") and "6 configurations" in text
    hyb = as_bayesnet(mixed())
    assert hyb.explain_query({"c": "hi"}).startswith("lw") and "softmax or neural" in hyb.explain_query()
    with pytest.raises(ValueError, match=r"method='exact' is not possible.*\['c', 'w'\]"):
        hyb.posterior({"c": "hi"}, method="exact")
    torch.manual_seed(0)
    post = hyb.posterior({"c": "hi"}, targets=["d", "z"], num_samples=20_000)
    assert post.method == "lw" and float(post.ess) > 1000 and post["d"].shape == (2,)


def bn_explain(bn):
    return bn.explain_query({bn.nodes[-1]: 0.5})


def test_likelihood_weighting_converges_to_the_exact_clg_answer():
    bn = as_bayesnet(small_clg())
    exact = bn.posterior({"z": 1.3})
    errors = []
    for n in (200, 20_000):
        torch.manual_seed(1)
        runs = [bn.posterior({"z": 1.3}, method="lw", num_samples=n) for _ in range(20)]
        errors.append(math.sqrt(sum((float(r["d"][0] - exact["d"][0])) ** 2 for r in runs) / len(runs)))
    assert errors[1] < 0.2 * errors[0]  # 100x the samples: about 10x smaller (1/sqrt(n))
    assert errors[1] < 0.02  # ESS is about 17% of the draws: sd of P(d=a) about 0.008 at 20,000


def test_sample_with_evidence_clamped_or_resampled_and_interventions():
    bn = as_bayesnet(small_clg())
    torch.manual_seed(0)
    s = bn.sample(4000, evidence={"d": "b"})
    assert s.method == "forward, evidence clamped" and bool((s["d"] == 1).all())
    assert float(s["x"].mean()) == pytest.approx(2.0, abs=0.05)  # x | d=b ~ N(2, 0.5)
    s = bn.sample(4000, evidence={"z": 1.3}, num_proposals=100_000)
    assert s.method == "sampling-importance-resampling" and s.ess > 1000
    exact = bn.posterior({"z": 1.3})
    assert float((s["d"] == 0).double().mean()) == pytest.approx(float(exact["d"][0]), abs=0.03)
    do = bn.intervene({"x": 3.0})
    assert do.parents("x") == [] and bool((do.sample(10)["x"] == 3.0).all())
    do_d = bn.intervene({"d": "a"})
    assert float(do_d.posterior({"z": 1.3})["d"][0]) == 1.0


def test_fit_least_squares_per_discrete_configuration():
    bn = as_bayesnet(small_clg())
    probgen.seed(0)
    data = bn.sample(20_000)
    fitted = bn.fit(data)
    assert type(fitted) is HybridBayesNet and fitted.fit_info == {"method": "mle"}
    y = fitted.cpd("y")
    assert torch.allclose(y.weights.squeeze(-1), torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64),
                          atol=0.05)
    assert torch.allclose(y.variance, torch.tensor([0.3, 0.2, 1.0], dtype=torch.float64), rtol=0.1)


class _Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


def test_fit_svi_trains_a_neural_conditional():
    g = nx.DiGraph([("u", "v")])
    g.nodes["u"]["cpd"] = GaussianCPD(bias=0.0, variance=1.0)
    torch.manual_seed(0)
    g.nodes["v"]["cpd"] = NeuralCPD(_Linear(), lambda loc: dist.Normal(loc, 0.5), parents=["u"])
    bn = BayesNet(g)
    u = torch.randn(512, dtype=torch.float64)
    data = {"u": u, "v": 2.0 * u + 1.0 + 0.5 * torch.randn(512, dtype=torch.float64)}
    out = bn.fit(data, method="svi", num_steps=300, batch_size=128, lr=0.05, seed=0)
    assert out is bn and out.fit_info["losses"][-1] < out.fit_info["losses"][0]
    lin = bn.cpd("v").module.lin
    w, b = lin.weight.detach().item(), lin.bias.detach().item()
    assert w == pytest.approx(2.0, abs=0.15) and b == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError, match=r"nodes \['v'\] have no data column"):
        bn.fit({"u": u}, method="svi")


# ------------------------------------------------------------------------------------------- bad input
class _WrongShape(nn.Module):
    def forward(self, x):
        return torch.zeros(len(x), 7)


def _net(**cpds) -> BayesNet:
    g = nx.DiGraph()
    for n, cpd in cpds.items():
        g.add_node(n, cpd=cpd)
    g.add_edges_from((p, n) for n, cpd in cpds.items() for p in cpd.parents)
    return BayesNet(g)


def _bp():
    return _net(sick=TabularCPD(["no", "yes"], [0.9, 0.1]),
                bp=GaussianCPD(["sick"], bias=[120.0, 150.0], variance=[100.0, 225.0]))


@pytest.mark.parametrize("build, match", [
    (lambda: _net(x=GaussianCPD(bias=0.0, variance=0.0)), r"`variance` must be > 0.*got 0"),
    (lambda: _net(u=GaussianCPD(), x=GaussianCPD(["u"], weights=[1.0, 2.0])),
     r"`weights` has shape \(2,\).*parents \['u'\]"),
    (lambda: _net(d=TabularCPD(["a", "b"], [0.5, 0.5]), x=GaussianCPD(["d"], bias=[0.0, 1.0, 2.0])),
     r"GaussianCPD of 'x': `bias` has shape \(3,\)"),
    (lambda: _net(u=GaussianCPD(), c=TabularCPD(["a", "b"], [[0.5, 0.5]], parents=["u"])),
     r"discrete node 'c' has the continuous parent 'u'.*SoftmaxCPD"),
    (lambda: _net(d=TabularCPD(["a", "b"], [0.5, 0.5]),
                  x=NeuralCPD(_WrongShape(), lambda loc: dist.Normal(loc, 1.0), parents=["d"],
                              event_shape=(2,))),
     r"NeuralCPD of 'x'.*expected batch \(2,\) and event shape \(2,\)"),
])
def test_bad_networks_are_refused_naming_the_node(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


@pytest.mark.parametrize("evidence, match", [
    ({"bp": "high"}, r"continuous node 'bp': got the state name 'high'"),
    ({"sick": 0.5}, r"discrete node 'sick': got the float 0.5"),
    ({"bp": float("nan")}, r"evidence on 'bp' is nan; values must be finite"),
    ({"bp": torch.tensor([120.0, math.inf])}, r"evidence on 'bp' in row 1 is inf"),
    ({"bpp": 120.0}, r"unknown node 'bpp'; did you mean 'bp'"),
])
def test_bad_evidence_is_refused_naming_the_node(evidence, match):
    bn = _bp()
    with pytest.raises((ValueError, TypeError), match=match):
        bn.posterior(evidence)
    with pytest.raises((ValueError, TypeError), match=match):
        bn.sample(3, evidence=evidence)


def test_bad_query_options():
    bn = _bp()
    with pytest.raises(ValueError, match="method"):
        bn.posterior({"bp": 130.0}, method="magic")
    with pytest.raises(ValueError, match=r"joint=.*needs exact inference"):
        bn.posterior({"bp": 130.0}, method="lw", joint=["bp"])
    with pytest.raises(ValueError, match=r"'bp' is a continuous node"):
        bn.states("bp")
    with pytest.raises(ValueError, match="method='svi' trains NeuralCPD modules"):
        bn.fit({"sick": [0, 1], "bp": [1.0, 2.0]}, method="svi")


def test_a_discrete_network_samples_with_evidence_and_explains_its_queries():
    g = nx.DiGraph([("rain", "wet")])
    g.nodes["rain"]["cpd"] = TabularCPD(["no", "yes"], [0.8, 0.2])
    g.nodes["wet"]["cpd"] = TabularCPD(["dry", "wet"], [[0.9, 0.1], [0.2, 0.8]], parents=["rain"])
    bn = BayesNet(g)
    assert bn.explain_query({"wet": "wet"}).startswith("exact (variable elimination)")
    torch.manual_seed(0)
    s = bn.sample(20_000, evidence={"wet": "wet"})
    assert s.method == "sampling-importance-resampling" and bool((s["wet"] == 1).all())
    exact = float(bn.posterior({"wet": "wet"})["rain"][1])  # 0.16 / (0.08 + 0.16) = 2/3
    assert float(s["rain"].double().mean()) == pytest.approx(exact, abs=0.02)
    assert bn.sample(5, evidence={"rain": "yes"}).method == "forward, evidence clamped"


def test_gaussian_network_samples_exactly_given_evidence():
    bn = load_network("ecoli70")
    ev = {"lacZ": 1.5, "asnA": -0.5}
    torch.manual_seed(0)
    s = bn.sample(20_000, evidence=ev)
    assert s.method == "exact (Gaussian posterior)" and bool((s["lacZ"] == 1.5).all())
    post = bn.posterior(ev)
    for n in ("lacA", "eutG", "b1191"):
        sd = float(post[n].stddev)
        assert float(s[n].mean()) == pytest.approx(float(post[n].mean), abs=4 * sd / 20_000**0.5)
        assert float(s[n].std()) == pytest.approx(sd, rel=0.03)


def test_intervening_on_a_continuous_node_keeps_exact_inference():
    bn = as_bayesnet(small_clg())  # d -> e, d -> x, (x, e) -> y, y -> z
    do = bn.intervene({"x": 0.7})
    assert repr(do.cpd("x")) == "PointMassCPD(x = 0.7)" and do.parents("x") == []
    assert do.explain_query({"z": 1.3}).startswith("exact (clg)")
    post = do.posterior({"z": 1.3})
    assert post.method == "exact" and "x" not in post and "intervention" in post.reason
    # oracle: cutting d -> x and observing x = 0.7 in the original network's other factors
    g = nx.DiGraph()
    for n in bn.nodes:
        g.add_node(n, cpd=bn.cpd(n) if n != "x" else GaussianCPD(bias=0.7, variance=1.0))
    g.add_edges_from((p, n) for n in bn.nodes for p in g.nodes[n]["cpd"].parents)
    ref = BayesNet(g).posterior({"z": 1.3, "x": 0.7})
    assert torch.allclose(post["d"], ref["d"]) and torch.allclose(post["y"].mean, ref["y"].mean)
    want = float(ref.log_evidence) + 0.5 * math.log(2 * math.pi)  # minus log N(0.7; 0.7, 1)
    assert float(do.log_probability({"z": 1.3})) == pytest.approx(want, abs=1e-12)
    torch.manual_seed(0)
    lw = do.posterior({"z": 1.3}, method="lw", num_samples=200_000)  # x observed, weights corrected
    assert float(lw["d"][0]) == pytest.approx(float(post["d"][0]), abs=0.01)
    assert float(lw.log_evidence) == pytest.approx(want, abs=0.02)
    with pytest.raises(ValueError, match=r"\['x'\] are fixed by an intervention"):
        do.posterior({"x": 1.0})


def test_nuts_through_bayesnet_agrees_with_exact():
    bn = _net(a=GaussianCPD(bias=1.0, variance=1.0), b=GaussianCPD(["a"], weights=[2.0], variance=0.5))
    probgen.seed(0)
    post = bn.posterior({"b": 3.0}, method="nuts", num_samples=400, warmup_steps=200)
    exact = bn.posterior({"b": 3.0})["a"]  # a | b=3 ~ N(1 + 2/4.5 * 1, 1 - 4/4.5)
    assert post.method == "nuts" and isinstance(post["a"], dist.Empirical)
    assert float(exact.mean) == pytest.approx(1 + 2 / 4.5, abs=1e-12)
    assert float(post["a"].mean) == pytest.approx(float(exact.mean), abs=4 * float(exact.stddev) / 10)
