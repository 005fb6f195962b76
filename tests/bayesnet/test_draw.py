import matplotlib.pyplot as plt
import networkx as nx
import pytest
from bn_helpers import five_node

from probgen.bayesnet.draw import layered_positions, plot_marginals
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.model.graph import layers


@pytest.mark.parametrize("name", ["asia", "alarm"])
def test_every_edge_points_down_and_rows_are_centred(name):
    bn = load_network(name)
    pos = layered_positions(bn.graph)
    assert set(pos) == set(bn.nodes)
    assert all(pos[u][1] > pos[v][1] for u, v in bn.graph.edges)
    for row in layers(bn.graph):
        xs = sorted(pos[v][0] for v in row)
        assert xs == [i - (len(row) - 1) / 2 for i in range(len(row))]


def test_roots_sit_just_above_their_highest_child():
    g = nx.DiGraph([("A", "B"), ("B", "C"), ("R", "C")])  # R would otherwise share the top row with A
    pos = layered_positions(g)
    assert pos["R"][1] == pos["C"][1] + 1 and pos["A"][1] == pos["C"][1] + 2


def test_draw_returns_the_axis_with_one_label_per_node():
    bn = five_node()
    fig, ax = plt.subplots()
    assert bn.draw(ax, highlight=["X4"], title="five") is ax
    assert sorted(t.get_text() for t in ax.texts) == sorted(bn.nodes) and ax.get_title() == "five"
    plt.close(fig)
    ax = bn.draw()
    assert len(ax.texts) == 5
    plt.close(ax.figure)


def test_plot_marginals_draws_one_bar_per_state():
    bn = five_node()
    m = {n: bn.cpt(n) for n in bn.nodes if not bn.parents(n)}  # roots: their marginals are their tables
    ax = plot_marginals(bn, m, reference=m)
    assert len(ax.patches) == 2 * (2 + 3) and [t.get_text() for t in ax.get_yticklabels()][2] == "X3 = a"
    assert [p.get_width() for p in ax.patches[:5]] == [0.3, 0.7, 0.5, 0.3, 0.2]
    plt.close(ax.figure)
