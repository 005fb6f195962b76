"""Structure learning: score decomposability, hill climbing and tabu search, PC-stable, CPDAGs and SHD.

Oracles: whole-graph scores (the searches' incremental gains), pgmpy's K2 score, the generating networks
(recovery), and the true CPDAG of a faithful network (PC).
"""

import itertools
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from bn_helpers import five_node, random_networks, sprinkler
from hypothesis import given, settings

import probgen
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.learn import (
    DataTable,
    ci_test,
    cpdag_to_dag,
    dag_to_cpdag,
    hill_climb,
    learn_network,
    learn_structure,
    local_score,
    pc,
    score,
    shd,
)
from probgen.bayesnet.learn.hillclimb import _Graph, _Moves, _Scorer


@pytest.fixture(scope="module")
def asia_rows():
    probgen.seed(7)
    asia = load_network("asia")
    return asia, DataTable(asia.sample(3000))


def _cpdag(edges, undirected=()):
    g = nx.DiGraph(edges)
    g.add_edges_from(undirected)
    g.add_edges_from((v, u) for u, v in undirected)
    return g


# ----------------------------------------------------------------------------------------------- scores
@pytest.mark.parametrize("kind", ["bic", "bdeu", "k2"])
def test_incremental_gains_equal_whole_score_differences(asia_rows, kind):
    """Decomposability: each legal move's gain, from one or two local scores, equals the change of the
    whole-graph score, for every move out of a few graphs."""
    asia, table = asia_rows
    nodes = table.nodes
    scorer = _Scorer(table, kind, 5.0)
    for graph in (nx.DiGraph(), asia.graph, hill_climb(table, score=kind, equivalent_sample_size=5.0)):
        g = _Graph(graph, nodes, scorer)
        gains = _Moves(len(nodes), nodes, None, set(), set(), 0).gains(g)
        base = score(graph, table, score=kind, equivalent_sample_size=5.0) if graph.number_of_nodes() else \
            sum(local_score(table, n, [], kind, 5.0) for n in nodes)
        assert g.total == pytest.approx(base, rel=1e-12)
        for kind_i, u, v in np.argwhere(gains > -np.inf):
            h = nx.DiGraph()
            h.add_nodes_from(nodes)
            h.add_edges_from(graph.edges)
            a, b = nodes[u], nodes[v]
            if kind_i != 0:
                h.remove_edge(a, b)
            if kind_i != 1:
                h.add_edge(*((a, b) if kind_i == 0 else (b, a)))
            assert nx.is_directed_acyclic_graph(h)
            full = score(h, table, score=kind, equivalent_sample_size=5.0)
            assert full - base == pytest.approx(gains[kind_i, u, v], abs=1e-6), (kind_i, a, b)


def test_k2_score_agrees_with_pgmpy(asia_rows):
    asia, table = asia_rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgmpy's deprecation notices
        from pgmpy.estimators import K2

        frame = pd.DataFrame({n: np.asarray(table.states[n])[table.columns[n].numpy()] for n in table.nodes})
        k2 = K2(frame)
        for node, parents in [("dysp", ["bronc", "either"]), ("smoke", []), ("xray", ["either", "asia"])]:
            assert local_score(table, node, parents, "k2") == pytest.approx(k2.local_score(node, parents),
                                                                             rel=1e-10)


# ------------------------------------------------------------------------------------- score search
def test_asia_recovered_from_50000_rows():
    asia = load_network("asia")
    probgen.seed(3)
    rows = asia.sample(50_000)
    for method in ("hill-climb", "tabu"):
        g = learn_structure(rows, method)
        assert shd(g, asia.graph) <= 2, method
        assert shd(dag_to_cpdag(g), dag_to_cpdag(asia.graph)) <= 2, method


def test_restarts_and_tabu_never_score_worse(asia_rows):
    _, table = asia_rows
    plain = score(hill_climb(table), table)
    for kw in ({"restarts": 5}, {"tabu_steps": 20}, {"tabu_steps": 20, "restarts": 5}):
        assert score(hill_climb(table, **kw), table) >= plain - 1e-6, kw


def test_search_constraints_hold():
    probgen.seed(2)
    rows = sprinkler().sample(5000)
    g = learn_structure(rows, "tabu", max_indegree=1, required_edges=[("Wet", "Rain")],
                        forbidden_edges=[("Rain", "Sprinkler"), ("Sprinkler", "Rain")])
    assert ("Wet", "Rain") in g.edges and max(d for _, d in g.in_degree()) <= 1
    assert not g.has_edge("Rain", "Sprinkler") and not g.has_edge("Sprinkler", "Rain")
    start = nx.DiGraph([("Wet", "Sprinkler")])
    assert hill_climb(rows, start=start, max_iter=0).edges == start.edges


# ------------------------------------------------------------------------------------------------- PC
@pytest.mark.parametrize("test", ["chi-square", "g-test"])
def test_pc_finds_the_cpdag_of_a_faithful_network(test):
    bn = five_node()
    probgen.seed(4)
    got = pc(bn.sample(20_000), ci_test=test, significance_level=0.01)
    want = _cpdag([("X2", "X4"), ("X3", "X4")], undirected=[("X1", "X2"), ("X3", "X5")])
    assert want == dag_to_cpdag(bn.graph) or set(want.edges) == set(dag_to_cpdag(bn.graph).edges)
    assert set(got.edges) == set(want.edges) and shd(got, want) == 0


def test_ci_test_statistics_agree_with_scipy():
    from scipy.stats import chi2_contingency

    probgen.seed(5)
    table = DataTable(five_node().sample(3000))
    counts = table.count_array("X5", ["X3"]).T  # (X5, X3)
    for test, lam in (("chi-square", "pearson"), ("g-test", "log-likelihood")):
        stat, dof, p = ci_test(table, "X3", "X5", (), test)
        want = chi2_contingency(counts.T, correction=False, lambda_=lam)
        assert (stat, dof) == (pytest.approx(want[0], rel=1e-10), want[2]) and p == pytest.approx(want[1])
    stat, dof, p = ci_test(table, "X1", "X4", ("X2",))  # X1 _||_ X4 | X2 holds in the network
    assert dof == 2 and p > 0.001


# ------------------------------------------------------------------------------------ CPDAGs and SHD
def test_shd_counts_each_differing_pair_once():
    dag = nx.DiGraph([("A", "B"), ("B", "C")])
    assert shd(dag, dag) == 0
    assert shd(dag, nx.DiGraph([("B", "A"), ("B", "C")])) == 1  # reversed
    assert shd(dag, nx.DiGraph([("A", "B")])) == 1  # missing
    assert shd(dag, nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")])) == 1  # extra
    assert shd(dag, _cpdag([("B", "C")], undirected=[("A", "B")])) == 1  # undirected vs directed
    assert shd(dag_to_cpdag(dag), _cpdag([], undirected=[("A", "B"), ("B", "C")])) == 0


def test_dag_to_cpdag_keeps_v_structures_and_meek_consequences():
    collider = nx.DiGraph([("A", "C"), ("B", "C"), ("C", "D")])  # A -> C <- B, then C -> D by rule 1
    assert set(dag_to_cpdag(collider).edges) == set(collider.edges)
    chain = nx.DiGraph([("A", "B"), ("B", "C")])
    assert set(dag_to_cpdag(chain).edges) == {("A", "B"), ("B", "A"), ("B", "C"), ("C", "B")}


@settings(max_examples=40, deadline=None)
@given(random_networks(max_nodes=6, max_card=2))
def test_cpdag_to_dag_is_a_member_of_the_class(bn):
    cpdag = dag_to_cpdag(bn.graph)
    dag = cpdag_to_dag(cpdag)
    assert nx.is_directed_acyclic_graph(dag)
    assert set(dag_to_cpdag(dag).edges) == set(cpdag.edges)


def test_cpdag_to_dag_always_returns_a_dag():
    """A learned graph with conflicting orientations has no consistent extension: still a DAG."""
    bad = nx.DiGraph([("A", "B"), ("B", "C"), ("C", "A")])  # a directed cycle
    bad.add_edges_from([("C", "D"), ("D", "C")])
    dag = cpdag_to_dag(bad)
    assert nx.is_directed_acyclic_graph(dag) and {frozenset(e) for e in dag.edges} == \
        {frozenset(e) for e in bad.edges}


def test_learn_network_from_pc_and_search():
    probgen.seed(6)
    for bn, method in ((sprinkler(), "hill-climb"), (five_node(), "pc")):
        s = bn.sample(20_000)
        rows = {n: [bn.states(n)[i] for i in s[n].tolist()] for n in bn.nodes}
        learned = learn_network(rows, method=method)
        assert learned.states(bn.nodes[-1]) == sorted(bn.states(bn.nodes[-1]))
        assert {frozenset(e) for e in learned.graph.edges} == {frozenset(e) for e in bn.graph.edges}


# ------------------------------------------------------------------------------------------- bad input
def test_structure_errors_name_the_argument():
    rows = sprinkler().sample(200)
    with pytest.raises(ValueError, match="`max_indegree` must be an int >= 0, got -1"):
        hill_climb(rows, max_indegree=-1)
    with pytest.raises(ValueError, match="`max_iter` must be an int >= 0, got -3"):
        learn_structure(rows, max_iter=-3)
    with pytest.raises(ValueError, match=r"`required_edges` item \('Rain',\) is not a pair"):
        learn_structure(rows, required_edges=[("Rain",)])
    with pytest.raises(ValueError, match=r"`forbidden_edges` item 'RW' is not a pair"):
        learn_structure(rows, forbidden_edges=["RW"])
    with pytest.raises(ValueError, match=r"edges \[\('Rain', 'Wet'\)\] are both required and forbidden"):
        learn_structure(rows, required_edges=[("Rain", "Wet")], forbidden_edges=[("Rain", "Wet")])
    with pytest.raises(ValueError, match=r"`required_edges` edge \('Rain', 'Wett'\) names an unknown node "
                                         r"'Wett'; did you mean 'Wet'"):
        learn_structure(rows, required_edges=[("Rain", "Wett")])
    with pytest.raises(ValueError, match="`required_edges` form a cycle"):
        learn_structure(rows, required_edges=[("Wet", "Rain"), ("Rain", "Wet")])
    with pytest.raises(ValueError, match=r"`method`='greedy' is not one of \['hill-climb', 'tabu', 'pc'\]"):
        learn_structure(rows, "greedy")
    with pytest.raises(ValueError, match=r"`score`='aic' is not one of"):
        learn_structure(rows, score="aic")
    with pytest.raises(ValueError, match=r"options \['score'\] do not apply to method='pc'"):
        learn_structure(rows, "pc", score="bic")
    with pytest.raises(ValueError, match=r"`significance_level` must be a finite number in \(0, 1\)"):
        learn_structure(rows, "pc", significance_level=1.5)
    with pytest.raises(ValueError, match=r"`ci_test`='fisher' is not one of"):
        pc(rows, ci_test="fisher")
    gaps = pd.DataFrame({"A": ["x", None, "y"], "B": ["u", "v", "v"]})
    with pytest.raises(ValueError, match="data column 'A' has missing values"):
        learn_structure(gaps)
    assert list(itertools.chain(learn_structure(gaps.dropna()).nodes)) == ["A", "B"]
