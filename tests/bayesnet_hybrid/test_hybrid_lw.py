"""Likelihood weighting: converges to the exact CLG answer as 1/sqrt(samples); agrees with quadrature on a
softmax link; reports the effective sample size; handles neural nodes. NUTS agrees with exact on a small
problem."""

import math

import numpy as np
import pytest
import torch
from hybrid_helpers import mixed, small_clg

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import (
    GaussianCPD,
    HybridNetwork,
    SoftmaxCPD,
    clg_posterior,
    gaussian_posterior,
    likelihood_weighting,
    nuts_posterior,
)


def test_lw_error_falls_as_one_over_sqrt_samples():
    """Oracle: clg_posterior. 200 independent LW runs (rows of one batched call with identical evidence)
    per sample size; the root-mean-square error must scale as n^-1/2 (fitted log-log slope in
    [-0.6, -0.4], rmse * sqrt(n) within a factor 1.4 across n = 250..16,000)."""
    net = small_clg()
    exact = clg_posterior(net, {"z": 1.3})
    reps = 200
    ev = {"z": torch.full((reps,), 1.3, dtype=torch.float64)}
    sizes = [250, 1000, 4000, 16000]
    rmse = []
    for n in sizes:
        lw = likelihood_weighting(net, ev, num_samples=n)
        err_d = lw.discrete["d"][:, 0] - exact.probs("d")[0]
        err_x = lw.mean["x"] - exact.mean("x")
        rmse.append(float(torch.sqrt((err_d**2).mean() + (err_x**2).mean())))
    slope = np.polyfit(np.log(sizes), np.log(rmse), 1)[0]
    assert -0.6 < slope < -0.4, (rmse, slope)
    scaled = np.array(rmse) * np.sqrt(sizes)  # about 2.8 here: constant under 1/sqrt(n)
    assert scaled.max() / scaled.min() < 1.4, scaled
    assert rmse[-1] < 0.04


def test_lw_matches_quadrature_on_a_softmax_link():
    """x ~ N(0.5, 1), P(c = hi | x) = sigmoid(1.5 x - 0.5); oracle: the posterior of x given c = hi by
    quadrature on a fine grid. Tolerance: 5 standard errors of 400,000 weighted samples."""
    net = HybridNetwork({"x": GaussianCPD(bias=0.5, variance=1.0),
                         "c": SoftmaxCPD(["lo", "hi"], ["x"], weights=[[0.0], [1.5]], bias=[0.0, -0.5])})
    grid = np.linspace(-9, 10, 200001)
    like = np.exp(-0.5 * (grid - 0.5) ** 2) / (1 + np.exp(-(1.5 * grid - 0.5)))
    mean = (grid * like).sum() / like.sum()
    var = (grid**2 * like).sum() / like.sum() - mean**2
    lw = likelihood_weighting(net, {"c": "hi"}, num_samples=400_000)
    se = math.sqrt(var / lw.ess.item())
    assert abs(lw.mean["x"].item() - mean) < 5 * se
    assert abs(lw.variance["x"].item() - var) < 0.02
    p_hi = like.sum() / (np.exp(-0.5 * (grid - 0.5) ** 2).sum())
    assert lw.log_evidence.exp().item() == pytest.approx(p_hi, rel=0.01)


def test_lw_ess_and_evidence_estimate():
    net = small_clg()
    prior = likelihood_weighting(net, None, num_samples=1000)
    assert prior.ess.item() == pytest.approx(1000) and prior.log_evidence.item() == pytest.approx(0.0)
    lw = likelihood_weighting(net, {"z": 1.3, "e": "w"}, num_samples=100_000)
    exact = clg_posterior(net, {"z": 1.3, "e": "w"})
    assert 0 < lw.ess.item() < 100_000
    assert lw.log_evidence.item() == pytest.approx(exact.log_evidence.item(), abs=0.02)
    assert torch.allclose(lw.probs("d"), exact.probs("d"), atol=0.02)


def test_lw_chunks_combine_exactly():
    """The same weighted draws, summarised whole or in three chunks, give the same estimates."""
    from probgen.bayesnet.hybrid.evidence import encode_values
    from probgen.bayesnet.hybrid.lw import _chunk_stats, _combine, _draw

    net = small_clg()
    obs = encode_values(net, {"z": torch.tensor([0.3, -1.0])})
    values, logw = _draw(net, net.nodes, obs, 900)
    targets = ["d", "e", "x", "y"]
    whole = _combine(net, targets, [_chunk_stats(net, targets, values, logw)], obs, 900)
    parts = []
    for sl in (slice(0, 100), slice(100, 550), slice(550, 900)):
        part = {n: (v[sl] if v.ndim == 2 else v) for n, v in values.items()}
        parts.append(_chunk_stats(net, targets, part, logw[sl]))
    split = _combine(net, targets, parts, obs, 900)
    assert torch.allclose(whole.mean["x"], split.mean["x"], atol=1e-12)
    assert torch.allclose(whole.variance["y"], split.variance["y"], atol=1e-12)
    assert torch.allclose(whole.discrete["e"], split.discrete["e"], atol=1e-12)
    assert torch.allclose(whole.ess, split.ess, rtol=1e-10)
    assert torch.allclose(whole.log_evidence, split.log_evidence, atol=1e-12)


def test_lw_impossible_evidence_and_discrete_only_network():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [1.0, 0.0]),
                         "e": TabularCPD(["u", "v"], [[0.5, 0.5], [0.1, 0.9]], ["d"])})
    with pytest.raises(ValueError, match="weight 0 in evidence row 0"):
        likelihood_weighting(net, {"d": "b"}, num_samples=10)
    lw = likelihood_weighting(net, {"e": "v"}, num_samples=10)
    assert torch.allclose(lw.probs("d"), torch.tensor([1.0, 0.0], dtype=torch.float64))


def test_nuts_agrees_with_exact_gaussian_posterior():
    """x -> y -> z, evidence z. Tolerance: 4 Monte Carlo standard errors (posterior sd / sqrt(n_eff))."""
    net = HybridNetwork({"x": GaussianCPD(bias=1.0, variance=2.0),
                         "y": GaussianCPD(["x"], weights=[0.7], bias=0.0, variance=0.5),
                         "z": GaussianCPD(["y"], weights=[-1.5], bias=0.3, variance=0.3)})
    exact = gaussian_posterior(net, {"z": 2.0})
    post = nuts_posterior(net, {"z": 2.0}, num_samples=200, warmup_steps=100)
    for node in ("x", "y"):
        n_eff = post.diagnostics[node]["n_eff"].item()
        sd = exact.normal(node).stddev.item()
        assert abs(post.mean(node).item() - exact.normal(node).mean.item()) < 4 * sd / math.sqrt(n_eff)


def test_nuts_sums_out_discrete_nodes_by_enumeration():
    net = small_clg()
    post = nuts_posterior(net, {"z": 1.3}, num_samples=20, warmup_steps=20)
    assert post.samples["x"].shape == (20,) and torch.isfinite(post.samples["y"]).all()
    with pytest.raises(ValueError, match="discrete"):
        nuts_posterior(net, {"z": 1.3}, targets=["d"])


def test_lw_with_softmax_and_neural_nodes_matches_quadrature():
    """mixed(): d -> z -> c, (z, c) -> w (a NeuralCPD). Evidence c = hi, w = 0.5. Oracle: for each state
    of d, quadrature over z on a fine grid of p(d) N(z) P(c | z) p(w | z, c). Tolerance: 0.01 on P(d), 5
    standard errors on E[z], from 200,000 samples."""
    net = mixed()
    z = torch.linspace(-15, 15, 30001, dtype=torch.float64)
    c = torch.ones_like(z, dtype=torch.long)
    joint = []
    for d in range(2):
        dd = torch.full_like(c, d)
        lp = (net.cpds["z"].log_prob(z, {"d": dd}) + net.cpds["c"].log_prob(c, {"z": z})
              + net.cpds["w"].log_prob(torch.full_like(z, 0.5), {"z": z, "c": c}).double())
        joint.append(lp.exp() * net.cpds["d"].probs[d])
    joint = torch.stack(joint)  # (2, G)
    p_d = joint.sum(1) / joint.sum()
    w_z = joint.sum(0) / joint.sum()
    mean_z = (w_z * z).sum().item()
    var_z = (w_z * z * z).sum().item() - mean_z**2
    lw = likelihood_weighting(net, {"c": "hi", "w": 0.5}, num_samples=200_000)
    assert torch.allclose(lw.probs("d"), p_d, atol=0.01)
    assert abs(lw.mean["z"].item() - mean_z) < 5 * math.sqrt(var_z / lw.ess.item())
