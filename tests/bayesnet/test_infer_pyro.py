"""The engine against Pyro's own enumeration on the compiled program ``bn.model``: ``TraceEnum_ELBO``
(log evidence, ``compute_marginals``) and ``infer_discrete`` at temperature 0 (MAP). Networks whose CPT rows
sum to one exactly (Pyro's Categorical would renormalise the others); tolerance 1e-9."""

import pyro
import pytest
import torch
from bn_helpers import five_node, sprinkler
from pyro.infer import TraceEnum_ELBO, config_enumerate, infer_discrete

from probgen.bayesnet.exact import queries
from probgen.bayesnet.io.bundled import load_network

NETWORKS = {
    "sprinkler": sprinkler,
    "five": five_node,
    "asia": lambda: load_network("asia"),
    "child": lambda: load_network("child"),
}


def _data(bn, n_rows=6, seed=0):
    """Per-row evidence on the last (up to 3) nodes, drawn from the network (so that P(e) > 0)."""
    rows = bn.sample(n_rows, generator=torch.Generator().manual_seed(seed))
    return {n: rows[n] for n in bn.nodes[-min(3, len(bn.nodes) - 1) :]}


def _empty_guide(data):
    pass


@pytest.mark.parametrize("name", list(NETWORKS))
def test_enumerated_marginals_and_log_evidence_agree(name):
    bn = NETWORKS[name]()
    data = _data(bn)
    model = config_enumerate(bn.model)
    elbo = TraceEnum_ELBO(max_plate_nesting=1)
    pyro_marg = elbo.compute_marginals(model, _empty_guide, data)
    ours = queries.posterior(bn, data)
    assert set(ours) == set(pyro_marg)
    for n, m in ours.items():
        torch.testing.assert_close(m, pyro_marg[n].probs.expand_as(m), atol=1e-9, rtol=0)
    log_evidence = -elbo.loss(model, _empty_guide, data)  # sum over rows of log P(e_b)
    assert queries.log_probability(bn, data).sum().item() == pytest.approx(log_evidence, abs=1e-9)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_infer_discrete_map_has_the_same_probability_as_ours(name):
    bn = NETWORKS[name]()
    data = _data(bn, seed=1)
    decoder = infer_discrete(config_enumerate(bn.model), first_available_dim=-2, temperature=0)
    trace = pyro.poutine.trace(decoder).get_trace(data)
    theirs = {n: trace.nodes[n]["value"] for n in bn.nodes}
    ours = {**queries.map_assignment(bn, data), **data}
    torch.testing.assert_close(bn.log_prob(ours), bn.log_prob(theirs), atol=1e-9, rtol=0)
