"""Exact Gaussian inference against an independent dense oracle (NumPy moments by recursion, Schur
complement with np.linalg.solve, SciPy densities): means, covariances and evidence densities to 1e-9."""

import numpy as np
import pytest
import torch
from hybrid_helpers import condition_dense, gaussian_params, moments, random_gaussian, small_clg

from probgen.bayesnet.hybrid import (
    gaussian_posterior,
    joint_gaussian,
    load_gaussian_network,
)

FORMS = ["information", "moment"]


def _oracle(net, evidence_nodes, x_obs):
    mu, cov = moments(gaussian_params(net), net.nodes)
    obs_ix = [net.nodes.index(n) for n in evidence_nodes]
    return condition_dense(mu, cov, obs_ix, x_obs)


def _rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / max(np.abs(np.asarray(b)).max(), 1e-300))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_networks_match_the_dense_oracle(seed, form):
    rng = np.random.default_rng(seed)
    net = random_gaussian(10, rng)
    ev_nodes = [net.nodes[i] for i in sorted(rng.choice(10, 3, replace=False))]
    x = rng.normal(size=(4, 3))
    post = gaussian_posterior(net, {n: torch.tensor(x[:, k]) for k, n in enumerate(ev_nodes)}, form=form)
    mean, cov, log_ev = _oracle(net, ev_nodes, x)
    assert post.nodes == [n for n in net.nodes if n not in ev_nodes]
    assert _rel(post.mean, mean) < 1e-9
    assert _rel(post.covariance, cov) < 1e-9
    assert _rel(post.log_evidence, log_ev) < 1e-9


@pytest.mark.parametrize("form", FORMS)
def test_ecoli70_matches_the_dense_oracle(form):
    net = load_gaussian_network("ecoli70")
    rng = np.random.default_rng(3)
    ev_nodes = [net.nodes[i] for i in sorted(rng.choice(len(net.nodes), 5, replace=False))]
    x = rng.normal(size=(3, 5))
    post = gaussian_posterior(net, {n: torch.tensor(x[:, k]) for k, n in enumerate(ev_nodes)}, form=form)
    mean, cov, log_ev = _oracle(net, ev_nodes, x)
    assert _rel(post.mean, mean) < 1e-9 and _rel(post.covariance, cov) < 1e-9
    assert _rel(post.log_evidence, log_ev) < 1e-9


def test_distributions_returned_and_unbatched_shapes():
    net = random_gaussian(6, np.random.default_rng(5))
    post = gaussian_posterior(net, {"g5": 1.0}, targets=["g1", "g3"])
    mean, cov, log_ev = _oracle(net, ["g5"], [[1.0]])
    hid = [n for n in net.nodes if n != "g5"]
    cols = [hid.index("g1"), hid.index("g3")]
    assert post.mean.shape == (2,) and post.log_evidence.shape == ()
    normal = post.normal("g3")
    assert normal.batch_shape == () and normal.mean.item() == pytest.approx(mean[0, cols[1]], rel=1e-10)
    assert normal.stddev.item() == pytest.approx(np.sqrt(cov[cols[1], cols[1]]), rel=1e-10)
    mvn = post.mvn()
    assert np.allclose(mvn.covariance_matrix.numpy(), cov[np.ix_(cols, cols)], rtol=1e-10, atol=1e-12)
    assert set(post.marginals()) == {"g1", "g3"}
    with pytest.raises(ValueError, match="'g2' is not a query node"):
        post.normal("g2")


def test_batched_rows_match_row_by_row_and_mvn_batch():
    net = random_gaussian(7, np.random.default_rng(6))
    x = torch.randn(5, 2, dtype=torch.float64)
    post = gaussian_posterior(net, {"g2": x[:, 0], "g6": x[:, 1]})
    for r in range(5):
        one = gaussian_posterior(net, {"g2": float(x[r, 0]), "g6": float(x[r, 1])})
        assert torch.allclose(post.mean[r], one.mean, atol=1e-12)
        assert torch.allclose(post.log_evidence[r], one.log_evidence, atol=1e-12)
    assert post.mvn(["g0", "g1"]).batch_shape == (5,)
    assert post.normal("g0").batch_shape == (5,)


def test_rows_with_different_observed_sets_are_grouped():
    net = random_gaussian(8, np.random.default_rng(7))
    nan = float("nan")
    ev = {"g1": torch.tensor([0.5, nan, 0.5, -1.0]), "g7": torch.tensor([1.0, 2.0, nan, 0.0])}
    post = gaussian_posterior(net, ev, targets=["g1", "g3", "g5"], allow_missing=True)
    assert len(post.group_covariance) == 3 and post.covariance.shape == (4, 3, 3)
    for r in range(4):
        row = {n: float(v[r]) for n, v in ev.items() if not torch.isnan(v[r])}
        want = gaussian_posterior(net, row, targets=[t for t in ["g1", "g3", "g5"] if t not in row])
        for t in want.nodes:
            k = post.nodes.index(t)
            assert post.mean[r, k].item() == pytest.approx(want.mean[want.nodes.index(t)].item(), abs=1e-10)
            assert post.variance[r, k].item() == pytest.approx(want.variance[want.nodes.index(t)].item(),
                                                               abs=1e-10)
        assert post.log_evidence[r].item() == pytest.approx(want.log_evidence.item(), abs=1e-10)
    # g1 observed in rows 0, 2, 3: a point mass at its value there
    assert post.mean[0, 0].item() == 0.5 and post.variance[0, 0].item() == 0.0
    with pytest.raises(ValueError, match="observed in some rows"):
        post.normal("g1")
    with pytest.raises(ValueError, match="NaN is not a missing-value marker"):
        gaussian_posterior(net, ev)


def test_no_evidence_is_the_prior_and_full_evidence_the_joint_density():
    net = random_gaussian(5, np.random.default_rng(8))
    mu, cov = moments(gaussian_params(net), net.nodes)
    prior = gaussian_posterior(net)
    assert np.allclose(prior.mean.numpy(), mu, atol=1e-12) and np.allclose(prior.covariance.numpy(), cov)
    assert prior.log_evidence.item() == 0.0
    x = {n: 0.1 * i for i, n in enumerate(net.nodes)}
    full = gaussian_posterior(net, x)
    assert full.nodes == [] and full.log_evidence.item() == pytest.approx(net.log_prob(x).item(), abs=1e-12)


def test_joint_gaussian_forms_agree():
    lg = joint_gaussian(load_gaussian_network("magic-niab"))
    cov, prec = lg.covariance(), lg.precision()
    eye = torch.eye(lg.n, dtype=torch.float64)
    assert (cov @ prec - eye).abs().max() < 1e-9


def test_non_gaussian_network_is_refused():
    with pytest.raises(ValueError, match="discrete nodes.*use clg_posterior"):
        gaussian_posterior(small_clg(), {"z": 1.0})
