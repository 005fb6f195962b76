"""Property tests on random small DAGs with random CPTs (hypothesis). Oracle: brute-force enumeration of
the joint table (bn_helpers.joint); sampling tolerances are 5 binomial standard deviations."""

import itertools

import pyro
import torch
from bn_helpers import joint, marginals, random_networks
from hypothesis import HealthCheck, given, settings
from pyro.infer.inspect import get_dependencies

from probgen.bayesnet import bif_string, read_bif

# derandomize: the same examples every run, so the statistical checks have a fixed seed
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(random_networks())
def test_log_prob_is_the_product_of_cpt_entries(bn):
    table = joint(bn)
    rows = list(itertools.product(*(range(bn.card(n)) for n in bn.nodes)))
    data = {n: torch.tensor([r[i] for r in rows], dtype=torch.int64) for i, n in enumerate(bn.nodes)}
    lp = bn.log_prob(data)
    expected = table.reshape(-1).log()
    finite = expected > float("-inf")
    assert torch.equal(lp > float("-inf"), finite)
    assert torch.allclose(lp[finite], expected[finite], rtol=1e-10, atol=1e-12)
    assert torch.isclose(table.sum(), torch.tensor(1.0, dtype=torch.float64))


@SETTINGS
@given(random_networks())
def test_sample_frequencies_match_exact_marginals(bn):
    n = 20_000
    s = bn.sample(n)
    exact = marginals(bn)
    for node in bn.nodes:
        freq = torch.bincount(s[node], minlength=bn.card(node)).double() / n
        p = exact[node]
        assert ((freq - p).abs() <= 5 * (p * (1 - p) / n).clamp(min=0).sqrt() + 1e-12).all(), (node, freq, p)


@SETTINGS
@given(random_networks())
def test_pyro_program_matches_the_dag_and_the_joint(bn):
    deps = get_dependencies(bn.model)["prior_dependencies"]
    assert {n: set(d) - {n} for n, d in deps.items()} == {n: set(bn.parents(n)) for n in bn.nodes}
    # The program's log density of a complete row is the joint table's entry.
    s = bn.sample(5)
    tr = pyro.poutine.trace(pyro.poutine.condition(bn.model, data=s)).get_trace(num_rows=5)
    tr.compute_log_prob()
    total = sum(site["log_prob"] for name, site in tr.nodes.items() if name in bn.cards)
    assert torch.allclose(total, bn.log_prob(s))


@SETTINGS
@given(random_networks(max_nodes=4, max_card=4))
def test_bif_round_trip_of_random_networks(bn):
    again = read_bif(bif_string(bn))
    assert again.nodes == bn.nodes and all(again.parents(n) == bn.parents(n) for n in bn.nodes)
    assert all(torch.equal(again.cpt(n), bn.cpt(n)) for n in bn.nodes)
    assert all(again.states(n) == [str(s) for s in bn.states(n)] for n in bn.nodes)
