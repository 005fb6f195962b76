"""Parameter and structure learning. Oracles: pgmpy's estimators and scores (independent code), closed-form
counts, and the true network that generated the data."""

import itertools
import math
import warnings

import networkx as nx
import pandas as pd
import pytest
import torch
from bn_helpers import five_node, sprinkler

import probgen
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.learn import DataTable, fit_parameters, local_score, score
from probgen.bayesnet.learn.hillclimb import hill_climb
from probgen.bayesnet.learn.structure import learn_network


@pytest.fixture(scope="module")
def asia_data():
    probgen.seed(11)
    asia = load_network("asia")
    s = asia.sample(3000)
    frame = pd.DataFrame({n: [asia.states(n)[i] for i in s[n].tolist()] for n in asia.nodes})
    return asia, s, frame


def _pgmpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgmpy's deprecation notices on import
        from pgmpy import estimators
        from pgmpy.models import DiscreteBayesianNetwork
    return estimators, DiscreteBayesianNetwork


def _pgmpy_table(cpd, ours, node):
    """pgmpy's (card, *parents) values, reordered to our (*parents, card) with our state order."""
    vals = torch.as_tensor(cpd.values)
    for axis, var in enumerate(cpd.variables):
        order = [cpd.state_names[var].index(s) for s in ours.states(var)]
        vals = vals.index_select(axis, torch.tensor(order))
    theirs = cpd.variables[1:]
    assert sorted(theirs) == sorted(ours.parents(node))
    return vals.permute(*[1 + theirs.index(p) for p in ours.parents(node)], 0)


@pytest.mark.parametrize("prior", ["mle", "bdeu"])
def test_tables_agree_with_pgmpy_estimators(asia_data, prior):
    asia, _, frame = asia_data
    est, DBN = _pgmpy()
    ours = fit_parameters(asia.graph, frame, prior=prior, equivalent_sample_size=5)
    model = DBN(list(asia.graph.edges))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if prior == "mle":
            cpds = est.MaximumLikelihoodEstimator(model, frame).get_parameters()
        else:
            cpds = est.BayesianEstimator(model, frame).get_parameters(prior_type="BDeu",
                                                                       equivalent_sample_size=5)
    for cpd in cpds:
        n = cpd.variable
        assert torch.allclose(_pgmpy_table(cpd, ours, n), ours.cpt(n), atol=1e-12), n


def test_scores_agree_with_pgmpy(asia_data):
    asia, _, frame = asia_data
    est, DBN = _pgmpy()
    table = DataTable(frame)
    bic, bdeu = est.BIC(frame), est.BDeu(frame, equivalent_sample_size=7)
    for node, parents in [("dysp", ["bronc", "either"]), ("smoke", []), ("xray", ["either", "asia"])]:
        expect_bic, expect_bdeu = bic.local_score(node, parents), bdeu.local_score(node, parents)
        assert local_score(table, node, parents, "bic") == pytest.approx(expect_bic, rel=1e-10)
        assert local_score(table, node, parents, "bdeu", 7) == pytest.approx(expect_bdeu, rel=1e-10)
    assert score(asia.graph, frame) == pytest.approx(bic.score(DBN(asia.graph)), rel=1e-10)


def test_dirichlet_and_k2_pseudo_counts_in_closed_form():
    data = {"A": torch.tensor([0, 0, 0, 1]), "B": torch.tensor([1, 1, 0, 0])}
    g = nx.DiGraph([("A", "B")])
    k2 = fit_parameters(g, data, prior="k2")
    assert k2.cpt("A").tolist() == [4 / 6, 2 / 6]
    assert k2.cpt("B").tolist() == [[2 / 5, 3 / 5], [2 / 3, 1 / 3]]  # A=0: counts (1, 2) + 1; A=1: (1, 0) + 1
    alpha = {"A": 0.5, "B": torch.tensor([[0, 1], [1, 0]])}
    half = fit_parameters(g, data, prior="dirichlet", pseudo_counts=alpha)
    assert half.cpt("A").tolist() == [3.5 / 5, 1.5 / 5]
    assert half.cpt("B").tolist() == [[1 / 4, 3 / 4], [1.0, 0.0]]
    mle = fit_parameters(g, data, states={"A": [0, 1, 2], "B": [0, 1]})
    assert mle.cpt("B")[2].tolist() == [0.5, 0.5]  # a parent state never seen: uniform row


def test_mle_recovers_the_generating_tables():
    bn = five_node()
    n = 100_000
    learned = fit_parameters(bn, bn.sample(n))
    assert learned.states("X3") == ["a", "b", "c"] and learned.parents("X4") == ["X2", "X3"]
    for node in bn.nodes:  # 5 standard errors of each estimated probability, with its row's count
        p, q = bn.cpt(node), learned.cpt(node)
        assert ((p - q).abs() <= 5 * (p * (1 - p) / (n * 0.02)).sqrt() + 1e-9).all(), node


def test_data_errors():
    g = nx.DiGraph([("A", "B")])
    with pytest.raises(ValueError, match=r"nodes \['B'\] of the structure have no column"):
        fit_parameters(g, {"A": [0, 1]})
    with pytest.raises(ValueError, match="data column 'A' has missing values"):
        fit_parameters(g, pd.DataFrame({"A": ["x", None], "B": ["y", "z"]}))
    with pytest.raises(ValueError, match="different lengths"):
        fit_parameters(g, {"A": [0, 1], "B": [0]})
    with pytest.raises(ValueError, match=r"`prior`='ml' is not one of .*did you mean 'mle'"):
        fit_parameters(g, {"A": [0, 1], "B": [0, 1]}, prior="ml")
    with pytest.raises(ValueError, match=r"data column 'A': state index 2 is out of range; it has 2 states "
                                         r"\(0..1: \[0, 1\]\) \(row 1\)"):
        fit_parameters(g, {"A": [0, 2], "B": [0, 1]}, states={"A": [0, 1]})
    with pytest.raises(TypeError, match="give int64 state indices"):
        fit_parameters(g, {"A": torch.tensor([0.0, 1.0]), "B": [0, 1]})


@pytest.mark.parametrize("name, n", [("five", 2000), ("cancer", 20_000), ("survey", 20_000)])
def test_hill_climbing_recovers_the_skeleton(name, n):
    bn = five_node() if name == "five" else load_network(name)
    probgen.seed(1)
    g = hill_climb(bn.sample(n))
    assert {frozenset(e) for e in g.edges} == {frozenset(e) for e in bn.graph.edges}


def test_hill_climbing_ends_in_a_local_optimum(asia_data):
    """No legal single-edge move improves the BIC of the result (checked with whole-graph scores)."""
    _, samples, _ = asia_data
    g = hill_climb(samples)
    assert nx.is_directed_acyclic_graph(g)
    base = score(g, samples)
    for u, v in itertools.permutations(g.nodes, 2):
        h = g.copy()
        if g.has_edge(u, v):
            h.remove_edge(u, v)
            flipped = h.copy()
            flipped.add_edge(v, u)
            candidates = [h, flipped]
        elif not g.has_edge(v, u):
            h.add_edge(u, v)
            candidates = [h]
        else:
            continue
        for c in candidates:
            if nx.is_directed_acyclic_graph(c):
                assert score(c, samples) <= base + 1e-4, (u, v)


def test_hill_climbing_constraints():
    probgen.seed(2)
    s = sprinkler().sample(5000)
    free = hill_climb(s)
    assert free.number_of_edges() == 3
    g = hill_climb(s, max_indegree=1, forbidden_edges=[("Rain", "Sprinkler"), ("Sprinkler", "Rain")],
                   required_edges=[("Wet", "Rain")])
    assert ("Wet", "Rain") in g.edges and max(d for _, d in g.in_degree()) <= 1
    assert not g.has_edge("Rain", "Sprinkler") and not g.has_edge("Sprinkler", "Rain")
    with pytest.raises(ValueError, match="cycle"):
        hill_climb(s, required_edges=[("Wet", "Rain"), ("Rain", "Wet")])


def test_learn_network_end_to_end():
    probgen.seed(3)
    bn = sprinkler()
    s = bn.sample(20_000)
    learned = learn_network({n: [bn.states(n)[i] for i in s[n].tolist()] for n in bn.nodes})
    assert learned.states("Wet") == ["dry", "wet"]
    assert {frozenset(e) for e in learned.graph.edges} == {frozenset(e) for e in bn.graph.edges}
    assert math.isclose(learned.cpt("Rain")[1].item(), 0.2, abs_tol=5 * math.sqrt(0.16 / 20_000))
