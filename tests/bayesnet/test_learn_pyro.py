"""The Pyro way: SVI on the network program with ``pyro.param`` CPTs agrees with EM; Dirichlet priors on
CPT rows give the conjugate posterior (oracle: Dirichlet(alpha + counts) on complete data)."""

import networkx as nx
import pytest
import torch
from bn_helpers import joint, sprinkler

import probgen
from probgen.bayesnet import BayesNet, TabularCPD
from probgen.bayesnet.learn.pyro_fit import fit_svi, table_posterior


def _gaps(samples, rate, seed):
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for n, col in samples.items():
        col = col.clone()
        col[torch.rand(len(col), generator=gen) < rate] = -1
        out[n] = col
    return out


def _two_node() -> BayesNet:
    g = nx.DiGraph([("A", "B")])
    g.nodes["A"]["cpd"] = TabularCPD(["a0", "a1"], [0.3, 0.7])
    g.nodes["B"]["cpd"] = TabularCPD(["b0", "b1"], [[0.2, 0.8], [0.6, 0.4]], parents=["A"])
    return BayesNet(g)


def test_svi_and_em_reach_the_same_tables():
    """Both maximise the likelihood of the observed cells (the gaps enumerated by TraceEnum_ELBO, or summed
    by the exact engine): the rows the data determines (parent configurations expected in 10 rows or more;
    the likelihood is nearly flat in the others) agree to 2e-3, the log-likelihoods to 1e-4 relative."""
    bn = sprinkler()
    probgen.seed(1)
    data = _gaps(bn.sample(600), 0.2, seed=2)
    em = bn.fit(data, method="em", tol=1e-12, max_iter=2000)
    svi = fit_svi(bn, data, num_steps=400, lr=0.1)
    table = joint(em)  # axes in em.nodes order
    for n in bn.nodes:
        axes = [bn.nodes.index(p) for p in bn.parents(n)]
        others = [d for d in range(table.dim()) if d not in axes]
        p_u = table.sum(others) if others else torch.tensor(1.0)  # P(parents), axes in node order
        p_u = p_u.permute([sorted(axes).index(a) for a in axes]) if axes else p_u  # CPT axis order
        seen = (600 * p_u >= 10)[..., None].expand_as(em.cpt(n))
        assert torch.allclose(svi.cpt(n)[seen], em.cpt(n)[seen], atol=2e-3), (n, svi.cpt(n), em.cpt(n))
    ll_svi, ll_em = svi.fit_info.log_likelihood[-1], em.fit_info.log_likelihood[-1]
    assert ll_svi == pytest.approx(ll_em, rel=1e-4) and ll_svi <= ll_em + 1e-2
    assert svi.fit_info.method == "svi" and len(svi.fit_info.log_likelihood) == 400


def test_map_tables_by_svi_match_the_dirichlet_mode():
    """AutoDelta on Dirichlet(2) rows: the MAP table (N + 1) / (N_u + r), i.e. the posterior mean under
    Dirichlet(1) pseudo-counts."""
    bn = _two_node()
    data = bn.sample(300)
    post = table_posterior(bn, data, prior="dirichlet", pseudo_counts=2.0, guide="delta", num_steps=400,
                           lr=0.05, num_samples=1)
    mode = bn.fit(data, method="bayes", prior="dirichlet", pseudo_counts=1.0)
    for n in bn.nodes:
        assert post[n].shape == (1, *bn.cpt(n).shape)
        assert torch.allclose(post[n][0], mode.cpt(n), atol=2e-3), n


@pytest.mark.slow
def test_nuts_posterior_is_the_conjugate_one():
    """Complete data, K2 prior: each row's posterior is Dirichlet(1 + counts); NUTS's mean and standard
    deviation agree within Monte Carlo error (a third of the posterior sd, and 30%)."""
    bn = _two_node()
    data = bn.sample(60)
    post = table_posterior(bn, data, method="nuts", prior="k2", num_samples=400, warmup_steps=200)
    for n in bn.nodes:
        alpha = 1.0 + _counts(bn, data, n)  # (*parent_cards, card)
        mean = alpha / alpha.sum(-1, keepdim=True)
        total = alpha.sum(-1, keepdim=True)
        sd = (mean * (1 - mean) / (total + 1)).sqrt()
        assert ((post[n].mean(0) - mean).abs() <= sd / 3).all(), n
        assert ((post[n].std(0) / sd - 1).abs() <= 0.3).all(), n


def _counts(bn, data, n):
    family = [*bn.parents(n), n]
    flat = torch.zeros(len(data[n]), dtype=torch.int64)
    for p in family:
        flat = flat * bn.card(p) + data[p]
    size = 1
    for p in family:
        size *= bn.card(p)
    return torch.bincount(flat, minlength=size).double().reshape(bn.cpt(n).shape)


def test_pyro_path_errors():
    bn = _two_node()
    data = bn.sample(20)
    with pytest.raises(ValueError, match="`num_steps` must be an int >= 1, got 0"):
        fit_svi(bn, data, num_steps=0)
    with pytest.raises(ValueError, match="a Dirichlet prior needs positive pseudo-counts"):
        table_posterior(bn, data, prior="dirichlet", pseudo_counts=0.0)
    with pytest.raises(ValueError, match=r"`method`='hmc' is not one of \['svi', 'nuts'\]"):
        table_posterior(bn, data, method="hmc")
    with pytest.raises(ValueError, match=r"nodes \['B'\] have no column"):
        fit_svi(bn, {"A": data["A"]})
