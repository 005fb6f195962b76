"""The compiled Pyro program. Oracles: the DAG itself (dependencies) and the brute-force joint table
(log-evidence under Pyro's enumeration)."""

import pyro
import pytest
import torch
from bn_helpers import five_node, joint, sprinkler
from pyro.infer import TraceEnum_ELBO, config_enumerate, infer_discrete
from pyro.infer.inspect import get_dependencies

from probgen.bayesnet.io.bundled import load_network


@pytest.mark.parametrize("make", [sprinkler, five_node, lambda: load_network("asia"),
                                  lambda: load_network("alarm")], ids=["sprinkler", "five", "asia", "alarm"])
def test_dependencies_are_exactly_the_dag_parents(make):
    bn = make()
    deps = get_dependencies(bn.model)["prior_dependencies"]
    assert list(deps) == bn.nodes  # one sample site per node, in topological order
    for n in bn.nodes:
        assert set(deps[n]) - {n} == set(bn.parents(n)), n
        assert all(plates == set() for plates in deps[n].values())


def test_trace_has_one_categorical_site_per_node_under_the_rows_plate():
    bn = five_node()
    tr = pyro.poutine.trace(bn.model).get_trace(num_rows=7)
    sites = [s for s in tr.nodes.values() if s["type"] == "sample" and not s["is_observed"]
             and s["name"] != "rows"]
    assert [s["name"] for s in sites] == bn.nodes
    for s in sites:
        assert isinstance(s["fn"], pyro.distributions.Categorical) and s["value"].shape == (7,)
        assert [f.name for f in s["cond_indep_stack"]] == ["rows"]


def test_data_conditions_observed_nodes_and_sets_the_number_of_rows():
    bn = sprinkler()
    data = {"Wet": torch.tensor([1, 0, 1, 1])}
    tr = pyro.poutine.trace(bn.model).get_trace(data)
    assert tr.nodes["Wet"]["is_observed"] and torch.equal(tr.nodes["Wet"]["value"], data["Wet"])
    assert tr.nodes["Rain"]["value"].shape == (4,) and not tr.nodes["Rain"]["is_observed"]
    tr = pyro.poutine.trace(bn.model).get_trace({"Wet": ["wet", "dry"]})  # names are accepted too
    assert tr.nodes["Wet"]["value"].tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"`num_rows` \(3\) disagrees with the data's 4 rows"):
        bn.model(data, num_rows=3)


@pytest.mark.parametrize("make", [sprinkler, five_node])
def test_enumeration_log_evidence_equals_brute_force(make):
    """-TraceEnum_ELBO loss with an empty guide is log P(observed) summed over rows."""
    bn = make()
    table = joint(bn)  # axes in bn.nodes order
    obs_node = bn.nodes[-1]
    values = torch.arange(bn.card(obs_node))
    model = config_enumerate(bn.model)
    loss = TraceEnum_ELBO(max_plate_nesting=1).loss(model, lambda data: None, {obs_node: values})
    dims = list(range(len(bn.nodes) - 1))
    p_obs = table.sum(dims) if dims else table  # (card,)
    assert loss == pytest.approx(-p_obs.log().sum().item(), rel=1e-9)


def test_infer_discrete_gives_the_map_of_a_tiny_network():
    bn = sprinkler()
    data = {"Wet": torch.tensor([1, 0])}
    model = infer_discrete(config_enumerate(bn.model), first_available_dim=-2, temperature=0)
    tr = pyro.poutine.trace(model).get_trace(data)
    table = joint(bn)  # (Rain, Sprinkler, Wet)
    for row, wet in enumerate([1, 0]):
        best = divmod(int(table[..., wet].argmax()), 2)  # (Rain, Sprinkler) maximising P(., ., wet)
        assert (tr.nodes["Rain"]["value"][row].item(), tr.nodes["Sprinkler"]["value"][row].item()) == best


def test_bad_data_is_a_clear_error():
    bn = sprinkler()
    with pytest.raises(ValueError, match="row 0 has state index 2, outside 0..1"):
        bn.model({"Wet": torch.tensor([2])})
    with pytest.raises(ValueError, match="unknown node 'Snow'"):
        bn.model({"Snow": torch.tensor([0])})
    with pytest.raises(ValueError, match="`num_rows` must be an int >= 1, got 0"):
        bn.model(num_rows=0)
