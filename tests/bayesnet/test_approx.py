"""Likelihood weighting against exact inference (itself checked against enumeration and pgmpy).

Tolerance per marginal cell: 6 * sqrt(p (1 - p) / ESS), the binomial standard error at the effective sample
size, plus 1e-3 for the ratio estimator's bias at these sizes; draws are seeded, so the test is
deterministic."""

import math

import networkx as nx
import pytest
import torch
from bn_helpers import sprinkler

from probgen.bayesnet import BayesNet, TabularCPD
from probgen.bayesnet.approx import weighting
from probgen.bayesnet.exact import queries
from probgen.bayesnet.io.bundled import load_network


def _close(est: torch.Tensor, exact: torch.Tensor, ess):
    tol = 6 * (exact * (1 - exact) / ess).sqrt() + 1e-3
    assert ((est - exact).abs() <= tol).all(), f"max error {(est - exact).abs().max():.3g}, ess {ess}"


def test_alarm_marginals_and_evidence_match_exact_within_the_effective_sample_size():
    bn = load_network("alarm")
    ev = {"HRBP": "HIGH", "BP": "LOW", "CO": "LOW"}
    gen = torch.Generator().manual_seed(0)
    res = weighting.likelihood_weighting(bn, ev, num_samples=40_000, generator=gen)
    exact = queries.posterior(bn, ev)
    assert set(res.marginals) == set(exact)
    assert 1_000 < res.ess.item() < 40_000
    for n, m in exact.items():
        assert res.marginals[n].shape == m.shape
        _close(res.marginals[n], m, res.ess.item())
    # the mean weight's relative standard error is sqrt((S / ESS - 1) / S)
    rel = math.sqrt((40_000 / res.ess.item() - 1) / 40_000)
    assert res.log_evidence.item() == pytest.approx(queries.log_probability(bn, ev).item(), abs=6 * rel)
    assert "LikelihoodWeighting(34 marginals, num_samples=40000" in repr(res)


def test_per_row_evidence_with_missing_entries(monkeypatch):
    bn = load_network("asia")
    rows = {
        "xray": torch.tensor([0, 1, -1, 0]),
        "dysp": torch.tensor([1, -1, 0, 0]),
        "smoke": torch.tensor([-1, 0, 1, 1]),
    }
    monkeypatch.setattr(weighting, "CHUNK_ENTRIES", 30_000)  # many chunks: the running rescaling is exercised
    res = weighting.likelihood_weighting(
        bn, rows, targets=["lung", "xray"], num_samples=20_000, generator=torch.Generator().manual_seed(1)
    )
    exact = queries.posterior(bn, rows, targets=["lung", "xray"])
    assert res.ess.shape == (4,) and res.log_evidence.shape == (4,)
    for b in range(4):
        _close(res.marginals["lung"][b], exact["lung"][b], res.ess[b].item())
        _close(res.marginals["xray"][b], exact["xray"][b], res.ess[b].item())
    torch.testing.assert_close(res.marginals["xray"][0], torch.tensor([1.0, 0.0], dtype=torch.float64))
    rel = ((20_000 / res.ess - 1) / 20_000).sqrt()  # (4,) relative standard error of the mean weight
    assert ((res.log_evidence - queries.log_probability(bn, rows)).abs() <= 6 * rel).all()


def test_without_evidence_every_weight_is_one():
    bn = sprinkler()
    res = weighting.likelihood_weighting(bn, num_samples=5_000, generator=torch.Generator().manual_seed(2))
    assert res.ess.item() == pytest.approx(5_000)
    assert res.log_evidence.item() == pytest.approx(0.0, abs=1e-12)
    for n, m in queries.posterior(bn).items():
        _close(res.marginals[n], m, 5_000)


def test_same_generator_seed_same_answer_and_zero_mass_states_never_drawn():
    g = nx.DiGraph()
    g.add_node("A")
    g.add_edge("A", "B")
    g.nodes["A"]["cpd"] = TabularCPD(["x", "y", "z"], [0.5, 0.5, 0.0])
    g.nodes["B"]["cpd"] = TabularCPD(["u", "v"], [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], parents=["A"])
    bn = BayesNet(g)
    a = weighting.likelihood_weighting(
        bn, {"B": "v"}, num_samples=3_000, generator=torch.Generator().manual_seed(5)
    )
    b = weighting.likelihood_weighting(
        bn, {"B": "v"}, num_samples=3_000, generator=torch.Generator().manual_seed(5)
    )
    torch.testing.assert_close(a.marginals["A"], b.marginals["A"], atol=0, rtol=0)
    torch.testing.assert_close(
        a.marginals["A"], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    )  # exact here
    prior = weighting.likelihood_weighting(bn, targets="A", num_samples=3_000)
    assert prior.marginals["A"][2] == 0.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_sampling():
    bn = load_network("alarm")
    ev = {"HRBP": torch.tensor([2, 0], device="cuda")}
    res = weighting.likelihood_weighting(
        bn, ev, num_samples=20_000, generator=torch.Generator(device="cuda").manual_seed(0)
    )
    exact = queries.posterior(bn, {"HRBP": torch.tensor([2, 0])})
    for b in range(2):
        _close(res.marginals["CO"][b].cpu(), exact["CO"][b], res.ess[b].item())
