"""Small hybrid networks and independent oracles shared by the hybrid-network tests.

The Gaussian oracle here is written apart from the engine: NumPy, the joint moments by the recursive
covariance formula (``cov(x_i, x_j) = sum_p w_ip cov(x_p, x_j)`` for ``j < i``, no ``(I - B)`` matrix), the
conditioning by the Schur complement with ``np.linalg.solve``, densities with SciPy.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyro.distributions as dist
import torch
from scipy.stats import multivariate_normal
from torch import nn

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, NeuralCPD, SoftmaxCPD
from probgen.bayesnet.hybrid.examples import clg_example


def small_clg() -> HybridNetwork:
    """d -> e (tables), d -> x, (x, e) -> y, y -> z (CLG Gaussians): 6 discrete configurations."""
    return clg_example()


class _Scale(nn.Module):
    """z, one-hot c -> (loc, scale) of a Normal."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x):
        out = self.lin(x)
        return out[..., 0], nn.functional.softplus(out[..., 1]) + 0.1


def mixed() -> HybridNetwork:
    """d (table) -> z (CLG) -> c (softmax); (z, c) -> w (a NeuralCPD Normal)."""
    torch.manual_seed(0)
    return HybridNetwork({
        "d": TabularCPD(["a", "b"], [0.3, 0.7]),
        "z": GaussianCPD(["d"], bias=[-1.0, 1.0], variance=[0.5, 2.0]),
        "c": SoftmaxCPD(["lo", "hi"], ["z"], weights=[[0.0], [1.5]], bias=[0.0, -0.5]),
        "w": NeuralCPD(_Scale(), dist.Normal, parents=["z", "c"]),
    })


def random_gaussian(n: int, rng: np.random.Generator, p_edge: float = 0.4) -> HybridNetwork:
    """A random linear Gaussian network on nodes g0..g{n-1} (topological in index order)."""
    cpds = {}
    for i in range(n):
        parents = [f"g{j}" for j in range(i) if rng.random() < p_edge]
        cpds[f"g{i}"] = GaussianCPD(parents, weights=rng.normal(0, 0.8, len(parents)) if parents else None,
                                    bias=rng.normal(), variance=rng.uniform(0.2, 2.0))
    return HybridNetwork(cpds)


def moments(params: dict, order: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Joint mean and covariance by recursion. ``params[n] = (bias, {parent: weight}, variance)``."""
    k = len(order)
    ix = {n: i for i, n in enumerate(order)}
    mu, cov = np.zeros(k), np.zeros((k, k))
    for i, n in enumerate(order):
        b, w, v = params[n]
        mu[i] = b + sum(wp * mu[ix[p]] for p, wp in w.items())
        for j in range(i):
            cov[i, j] = cov[j, i] = sum(wp * cov[ix[p], j] for p, wp in w.items())
        cov[i, i] = v + sum(wp * wq * cov[ix[p], ix[q]] for p, wp in w.items() for q, wq in w.items())
    return mu, cov


def gaussian_params(net: HybridNetwork, config: dict | None = None) -> dict:
    """``(bias, {parent: weight}, variance)`` of every continuous node, given discrete states ``config``."""
    out = {}
    for n in net.continuous_nodes:
        cpd = net.cpds[n]
        idx = tuple(config[p] for p in cpd.discrete_parents)
        w = cpd.weights[idx].tolist() if idx else cpd.weights.tolist()
        out[n] = (float(cpd.bias[idx]), dict(zip(cpd.continuous_parents, w)), float(cpd.variance[idx]))
    return out


def condition_dense(mu, cov, obs_ix, x_obs):
    """Posterior mean ``(N, h)``, covariance ``(h, h)`` and ``log p(x_obs)`` ``(N,)`` (Schur complement)."""
    hid = [i for i in range(len(mu)) if i not in obs_ix]
    x_obs = np.atleast_2d(x_obs)
    if not obs_ix:
        return np.tile(mu, (len(x_obs), 1)), cov, np.zeros(len(x_obs))
    s_ee = cov[np.ix_(obs_ix, obs_ix)]
    s_he = cov[np.ix_(hid, obs_ix)]
    mean = mu[hid] + np.linalg.solve(s_ee, (x_obs - mu[obs_ix]).T).T @ s_he.T
    post = cov[np.ix_(hid, hid)] - s_he @ np.linalg.solve(s_ee, s_he.T)
    log_ev = np.atleast_1d(multivariate_normal(mu[obs_ix], s_ee).logpdf(x_obs))
    return mean, post, log_ev


def clg_bruteforce(net: HybridNetwork, evidence: dict, query: str):
    """For one evidence row: (posterior weights by configuration, component means and variances of
    ``query`` if continuous, log p(e)). Enumerates every discrete configuration with ``itertools``."""
    disc = net.discrete_nodes
    cont = net.continuous_nodes
    rows = []
    for states in itertools.product(*[range(net.card(d)) for d in disc]):
        config = dict(zip(disc, states))
        if any(evidence.get(d, s) != s for d, s in config.items()):
            continue
        prior = np.prod([float(net.cpds[d].probs[tuple(config[p] for p in net.cpds[d].parents)
                                                   + (config[d],)]) for d in disc])
        mu, cov = moments(gaussian_params(net, config), cont)
        obs_ix = [i for i, n in enumerate(cont) if n in evidence]
        mean, post, log_ev = condition_dense(mu, cov, obs_ix, [evidence[cont[i]] for i in obs_ix])
        hid = [n for n in cont if n not in evidence]
        comp = None
        if query in hid:
            k = hid.index(query)
            comp = (mean[0, k], post[k, k])
        rows.append((config, prior * np.exp(log_ev[0]), comp))
    total = sum(r[1] for r in rows)
    return [(c, w / total, comp) for c, w, comp in rows], np.log(total)
