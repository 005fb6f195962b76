import networkx as nx
import pytest
import torch
from bn_helpers import five_node, sprinkler

from probgen.bayesnet import BayesNet, TabularCPD
from probgen.bayesnet.io.bundled import list_networks, load_network


def _graph(edges, cpds):
    g = nx.DiGraph(edges)
    for n, cpd in cpds.items():
        g.add_node(n, cpd=cpd)
    return g


def test_accessors_of_the_issue_example():
    bn = sprinkler()
    assert bn.nodes == ["Rain", "Sprinkler", "Wet"] and bn.cards == {"Rain": 2, "Sprinkler": 2, "Wet": 2}
    assert bn.parents("Wet") == ["Rain", "Sprinkler"] and bn.states("Wet") == ["dry", "wet"]
    assert bn.cpt("Wet").shape == (2, 2, 2) and bn.cpt("Wet")[1, 0].tolist() == [0.2, 0.8]
    assert bn.cpd("Rain").probs.tolist() == [0.8, 0.2] and bn.card("Rain") == 2
    assert isinstance(bn.graph, nx.DiGraph)
    assert set(bn.graph.edges) == {("Rain", "Sprinkler"), ("Rain", "Wet"), ("Sprinkler", "Wet")}
    assert bn.children("Rain") == ["Sprinkler", "Wet"] and bn.num_parameters == 1 + 2 + 4


def test_cpt_axes_follow_the_cpd_parent_order_not_the_edge_order():
    cpds = {"A": TabularCPD([0, 1], [0.5, 0.5]), "B": TabularCPD([0, 1, 2], [0.2, 0.3, 0.5]),
            "C": TabularCPD([0, 1], [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3, parents=["B", "A"])}
    bn = BayesNet(_graph([("A", "C"), ("B", "C")], cpds))
    assert bn.parents("C") == ["B", "A"] and bn.cpt("C").shape == (3, 2, 2)


def test_topological_order_is_deterministic_and_follows_the_input_order():
    g = nx.DiGraph()
    for n in ["Z", "Y", "X"]:
        g.add_node(n, cpd=TabularCPD([0, 1], [0.5, 0.5]) if n != "X" else None)
    g.nodes["X"]["cpd"] = TabularCPD([0, 1], [[0.5, 0.5]] * 2, parents=["Y"])
    g.add_edge("Y", "X")
    assert BayesNet(g).nodes == ["Z", "Y", "X"] == BayesNet(g.copy()).nodes


def test_the_input_graph_is_copied():
    g = sprinkler().graph
    bn = BayesNet(g)
    g.remove_edge("Rain", "Wet")
    assert ("Rain", "Wet") in bn.graph.edges


def test_state_index_accepts_names_and_indices():
    bn = five_node()
    assert bn.state_index("X3", "c") == 2 and bn.state_index("X3", 1) == 1
    assert bn.state_index("X3", torch.tensor(2)) == 2
    with pytest.raises(ValueError, match=r"node 'X3': unknown state 'd'; its states are \['a', 'b', 'c'"):
        bn.state_index("X3", "d")
    with pytest.raises(ValueError, match=r"node 'X3': state index 3 is out of range; it has 3 states"):
        bn.state_index("X3", 3)
    with pytest.raises(ValueError, match=r"unknown node 'X9'"):
        bn.state_index("X9", 0)


def test_int_state_names_win_over_indices():
    g = nx.DiGraph()
    g.add_node("N", cpd=TabularCPD([1, 2], [0.5, 0.5]))
    bn = BayesNet(g)
    assert bn.state_index("N", 1) == 0 and bn.state_index("N", 2) == 1 and bn.state_index("N", 0) == 0


# ----------------------------------------------------------------------------------------- bad input
def test_cycle_is_named():
    pairs = [("A", "C"), ("B", "A"), ("C", "B")]
    cpds = {n: TabularCPD([0, 1], [[0.5, 0.5]] * 2, parents=[p]) for n, p in pairs}
    with pytest.raises(ValueError, match=r"cycle (A -> B -> C -> A|B -> C -> A -> B|C -> A -> B -> C)"):
        BayesNet(_graph([("A", "B"), ("B", "C"), ("C", "A")], cpds))


def test_self_loop_is_a_cycle():
    g = nx.DiGraph([("A", "A")])
    g.nodes["A"]["cpd"] = TabularCPD([0, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"cycle A -> A"):
        BayesNet(g)


def test_node_without_cpd_is_named():
    g = nx.DiGraph([("Smoker", "Cancer")])
    g.nodes["Cancer"]["cpd"] = TabularCPD([0, 1], [[0.9, 0.1], [0.7, 0.3]], parents=["Smoker"])
    with pytest.raises(ValueError, match=r"node 'Smoker' has no conditional"):
        BayesNet(g)


def test_cpd_of_the_wrong_type():
    g = nx.DiGraph()
    g.add_node("A", cpd=[0.5, 0.5])
    with pytest.raises(TypeError, match=r"node 'A': 'cpd' must be a TabularCPD, got list"):
        BayesNet(g)


def test_parents_disagreeing_with_in_edges_name_both_sides():
    cpds = {"Rain": TabularCPD([0, 1], [0.5, 0.5]), "Sprinkler": TabularCPD([0, 1], [0.5, 0.5]),
            "Wet": TabularCPD([0, 1], [[0.5, 0.5]] * 2, parents=["Rain"])}
    with pytest.raises(ValueError, match=r"node 'Wet': CPD parents \['Rain'\] disagree.*"
                                         r"\['Sprinkler->Wet'\] have no axis in the CPD"):
        BayesNet(_graph([("Rain", "Wet"), ("Sprinkler", "Wet")], cpds))
    cpds["Wet"] = TabularCPD([0, 1], [[0.5, 0.5]] * 4, parents=["Rain", "Sprinkler"])
    with pytest.raises(ValueError, match=r"CPD parents \['Sprinkler'\] have no edge to 'Wet'"):
        BayesNet(_graph([("Rain", "Wet")], cpds))


def test_wrong_table_shape_names_node_and_expected_shape():
    cpds = {"Season": TabularCPD(list("abcd"), [0.25] * 4),
            "Rain": TabularCPD(["no", "yes"], [[0.5, 0.5]] * 2, parents=["Season"])}
    with pytest.raises(ValueError, match=r"CPT of 'Rain' has shape \(2, 2\) but parents \['Season'\] with "
                                         r"cardinalities \[4\] need \(4, 2\)"):
        BayesNet(_graph([("Season", "Rain")], cpds))


@pytest.mark.parametrize("graph, error, match", [
    (nx.Graph(), TypeError, "networkx DiGraph"),
    (nx.MultiDiGraph(), TypeError, "not a multigraph"),
    (nx.DiGraph(), ValueError, "no nodes"),
])
def test_graph_type(graph, error, match):
    with pytest.raises(error, match=match):
        BayesNet(graph)


def test_node_names_must_be_str_and_not_reserved():
    g = nx.DiGraph()
    g.add_node(1, cpd=TabularCPD([0, 1], [0.5, 0.5]))
    with pytest.raises(TypeError, match=r"node names must be str, got 1"):
        BayesNet(g)
    g = nx.DiGraph()
    g.add_node("rows", cpd=TabularCPD([0, 1], [0.5, 0.5]))
    with pytest.raises(ValueError, match="'rows' is reserved"):
        BayesNet(g)


# ------------------------------------------------------------------------------------ graph queries
def test_intervene_cuts_in_edges_and_fixes_the_state():
    bn = sprinkler()
    do = bn.intervene({"Sprinkler": "on"})
    assert do.parents("Sprinkler") == [] and do.cpt("Sprinkler").tolist() == [0.0, 1.0]
    assert ("Rain", "Sprinkler") not in do.graph.edges and ("Sprinkler", "Wet") in do.graph.edges
    assert torch.equal(do.cpt("Wet"), bn.cpt("Wet")) and bn.parents("Sprinkler") == ["Rain"]
    s = do.sample(2000)
    assert (s["Sprinkler"] == 1).all()
    with pytest.raises(ValueError, match="unknown state 'maybe'"):
        bn.intervene({"Sprinkler": "maybe"})


def test_markov_blanket_of_asia():
    asia = load_network("asia")
    # lung: parent smoke, child either, co-parent tub
    assert set(asia.markov_blanket("lung")) == {"smoke", "either", "tub"}
    assert set(asia.markov_blanket("either")) == {"lung", "tub", "xray", "dysp", "bronc"}


def test_d_separation_on_asia():
    asia = load_network("asia")
    assert asia.is_d_separated("smoke", "asia", [])  # independent roots
    assert not asia.is_d_separated("tub", "lung", ["either"])  # explaining away through a collider
    assert asia.is_d_separated("tub", "lung", [])
    assert asia.is_d_separated("xray", "dysp", ["either", "smoke"])
    assert not asia.is_d_separated("xray", "dysp", ["smoke"])
    with pytest.raises(ValueError, match="disjoint"):
        asia.is_d_separated("tub", "tub", [])


def test_repr_and_equals():
    bn = sprinkler()
    assert repr(bn) == "BayesNet(3 nodes, 3 edges, 7 free parameters: ['Rain', 'Sprinkler', 'Wet'])"
    assert bn.equals(sprinkler()) and not bn.equals(bn.intervene({"Rain": "yes"}))


def test_bundled_networks_are_listed():
    assert {"asia", "alarm"} <= set(list_networks())
    with pytest.raises(ValueError, match="unknown network 'nope'"):
        load_network("nope")
