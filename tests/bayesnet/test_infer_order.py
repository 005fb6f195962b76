"""Elimination orders (probgen.bayesnet.exact.elimination). Oracles: hand-computed clique sizes on small
graphs and an exhaustive search over all orders of small random graphs."""

import itertools
import random

import pytest

from probgen.bayesnet.exact.elimination import (
    HEURISTICS,
    best_order,
    elimination_order,
    moral_graph,
    order_cost,
)


def test_moral_graph_marries_parents():
    adj = moral_graph([(), (), (0, 1), (2,)])  # 0 -> 2 <- 1, 2 -> 3
    assert adj == [{1, 2}, {0, 2}, {0, 1, 3}, {2}]


def test_order_cost_by_hand():
    # a 4-cycle a-b-c-d-a, cards 2, 3, 5, 7: eliminating a first joins b and d (fill-in), clique {a, b, d}
    adj = [{1, 3}, {0, 2}, {1, 3}, {0, 2}]
    cards = [2, 3, 5, 7]
    largest, total = order_cost(adj, cards, [0, 1, 2, 3])
    # cliques: {a,b,d}=42, {b,c,d}=105, {c,d}=35, {d}=7
    assert (largest, total) == (105, 42 + 105 + 35 + 7)


@pytest.mark.parametrize("heuristic", HEURISTICS)
def test_trees_are_eliminated_without_fill(heuristic):
    parents = [()] + [((i - 1) // 2,) for i in range(1, 31)]  # a binary tree of 31 nodes
    adj = moral_graph(parents)
    order = elimination_order(adj, [3] * 31, heuristic)
    assert sorted(order) == list(range(31))
    assert order_cost(adj, [3] * 31, order)[0] == 9  # never more than one edge's table


def test_greedy_orders_are_near_the_optimum_on_small_graphs():
    rng = random.Random(0)
    worst = 1.0
    for _ in range(30):
        n = 6
        parents = [tuple(p for p in range(v) if rng.random() < 0.4) for v in range(n)]
        cards = [rng.randint(2, 4) for _ in range(n)]
        adj = moral_graph(parents)
        best = min(order_cost(adj, cards, perm)[1] for perm in itertools.permutations(range(n)))
        order, largest, total = best_order(adj, cards)
        assert sorted(order) == list(range(n)) and total >= best
        assert (largest, total) == order_cost(adj, cards, order)
        for h in HEURISTICS:
            assert total <= order_cost(adj, cards, elimination_order(adj, cards, h))[1]
        worst = max(worst, total / best)
    assert worst < 1.3  # measured: at most 1.16x the optimum on these 30 graphs


def test_unknown_heuristic():
    with pytest.raises(ValueError, match=r"`heuristic`='min-degree': use one of"):
        elimination_order([set()], [2], "min-degree")
