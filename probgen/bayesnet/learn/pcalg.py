"""Constraint-based structure learning: the PC algorithm (stable variant) with chi-square and G tests.

PC starts from the complete undirected graph and removes the edge x - y as soon as a conditional
independence test accepts x _||_ y | S for some set S of x's (or y's) neighbours, trying sets of size
0, 1, 2, ... (at most ``max_cond_vars``); S is kept as the pair's separating set. *Stable* (Colombo and
Maathuis 2014): within one size, every test conditions on the neighbourhoods as they were at the start
of that size, so the result does not depend on the order of the variables. Then every x - z - y with x, y
not adjacent and z outside their separating set becomes the v-structure x -> z <- y (an edge that two
v-structures would orient both ways stays undirected), and Meek's rules orient what else is implied
(``cpdag.py``). The result is a CPDAG: an ``nx.DiGraph`` with both directions for undirected edges.

Tests: the counts ``N[z, x, y]`` of each configuration z of S come from one ``bincount``. Pearson's
chi-square ``sum (N - E)^2 / E`` or the G statistic ``2 sum N log(N / E)``, with
``E[z, x, y] = N[z, x] N[z, y] / N[z]``, summed over the strata z; degrees of freedom
``sum_z (|x seen in z| - 1)(|y seen in z| - 1)`` (empty rows and columns of a stratum left out, as pgmpy
and bnlearn's adjusted df do). Independence is accepted when the p-value is at least
``significance_level``; a test with no degree of freedom left (every stratum shows one value of x or of
y, as when z determines x) cannot accept it and reports p = 0.

References: P. Spirtes, C. Glymour, R. Scheines, Causation, Prediction, and Search (2000), section 5.4.2;
D. Colombo, M. H. Maathuis, "Order-independent constraint-based causal structure learning", JMLR 15
(2014).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from scipy.special import xlogy
from scipy.stats import chi2

from probgen.bayesnet.learn.constraints import check_constraints
from probgen.bayesnet.learn.cpdag import apply_meek_rules
from probgen.bayesnet.learn.data import DataTable, as_table
from probgen.checks import check_choice, check_float, check_int

__all__ = ["pc", "ci_test", "CI_TESTS"]

CI_TESTS = ("chi-square", "g-test")


def ci_test(table: DataTable, x: str, y: str, given=(), test: str = "chi-square") -> tuple[float, int, float]:
    """Test x _||_ y | given on complete data: ``(statistic, degrees of freedom, p-value)``."""
    counts = table.count_array(y, [*given, x])  # (*given_cards, card_x, card_y)
    counts = counts.reshape(-1, *counts.shape[-2:])  # (Z, rx, ry)
    nzx, nzy = counts.sum(2), counts.sum(1)  # (Z, rx), (Z, ry)
    nz = nzx.sum(1)  # (Z,)
    expected = nzx[:, :, None] * nzy[:, None, :] / np.where(nz > 0, nz, 1.0)[:, None, None]
    if test == "chi-square":
        diff = np.where(expected > 0, (counts - expected) ** 2 / np.where(expected > 0, expected, 1.0), 0.0)
        stat = float(diff.sum())
    else:
        stat = float(2.0 * (xlogy(counts, counts) - xlogy(counts, expected)).sum())
    dof = int((((nzx > 0).sum(1) - 1).clip(min=0) * ((nzy > 0).sum(1) - 1).clip(min=0)).sum())
    p = float(chi2.sf(stat, dof)) if dof > 0 else 0.0  # no degree of freedom: no evidence of independence
    return stat, dof, p


class _Tester:
    """Cached CI decisions of one data table."""

    def __init__(self, table: DataTable, test: str, alpha: float) -> None:
        self.table, self.test, self.alpha, self.cache = table, test, alpha, {}
        self.count = 0

    def independent(self, x: str, y: str, given: tuple) -> bool:
        key = (frozenset((x, y)), frozenset(given))
        hit = self.cache.get(key)
        if hit is None:
            self.count += 1
            hit = self.cache[key] = ci_test(self.table, x, y, given, self.test)[2] >= self.alpha
        return hit


def _skeleton(nodes, tester: _Tester, max_cond_vars: int, required: set, forbidden: set):
    """PC-stable's adjacency phase: ``(adjacency sets, separating sets)``."""
    pairs_required = {frozenset(e) for e in required}
    adj = {v: set(nodes) - {v} for v in nodes}
    for u, v in forbidden:
        if (v, u) in forbidden:  # forbidden both ways: no edge at all
            adj[u].discard(v)
            adj[v].discard(u)
    sepset: dict[frozenset, tuple] = {}
    for size in range(max_cond_vars + 1):
        frozen = {v: sorted(adj[v]) for v in nodes}  # the stable variant's snapshot
        if all(len(frozen[v]) - 1 < size for v in nodes):
            break
        for x in nodes:
            for y in frozen[x]:
                if y not in adj[x] or frozenset((x, y)) in pairs_required:
                    continue
                for s in itertools.combinations([z for z in frozen[x] if z != y], size):
                    if tester.independent(x, y, s):
                        adj[x].discard(y)
                        adj[y].discard(x)
                        sepset[frozenset((x, y))] = s
                        break
    return adj, sepset


def _collider(tester: _Tester, adj, x: str, z: str, y: str, sepset: tuple, max_cond_vars: int) -> bool:
    """Majority rule (Colombo and Maathuis 2014): x -> z <- y when z is in fewer than half of the sets
    among the subsets of x's and of y's neighbours that separate x and y (the skeleton's own separating
    set decides when no subset does)."""
    found, with_z = 0, 0
    for side in (x, y):
        pool = sorted(adj[side] - {x, y})
        for k in range(min(len(pool), max_cond_vars) + 1):
            for s in itertools.combinations(pool, k):
                if tester.independent(x, y, s):
                    found += 1
                    with_z += z in s
    if found == 0:
        return z not in sepset
    return 2 * with_z < found


def _orient(nodes, adj, sepset, tester: _Tester, max_cond_vars: int, required: set, forbidden: set):
    """v-structures by the majority rule, the constraints, then Meek's rules."""
    heads = set()  # (a, b): an arrowhead at b on the edge a - b
    for z in nodes:
        for x, y in itertools.combinations(sorted(adj[z]), 2):
            if y not in adj[x] and _collider(tester, adj, x, z, y, sepset.get(frozenset((x, y)), ()),
                                             max_cond_vars):
                heads |= {(x, z), (y, z)}
    heads |= set(required) | {(v, u) for u, v in forbidden}
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for u in nodes:
        for v in sorted(adj[u]):
            if (v, u) not in heads or (u, v) in heads:  # keep u -> v unless only v -> u is implied
                g.add_edge(u, v)
    return apply_meek_rules(g)


def pc(data, *, ci_test: str = "chi-square", significance_level: float = 0.01, max_cond_vars: int = 5,
       required_edges=(), forbidden_edges=(), states=None) -> nx.DiGraph:
    """Learn a CPDAG by the PC-stable algorithm.

    Args:
        data: a ``DataTable``, a dict node -> column, a pandas DataFrame or a CSV path (complete rows).
        ci_test: "chi-square" (Pearson) or "g-test" (likelihood ratio).
        significance_level: independence is accepted when a test's p-value is at least this, in (0, 1).
        max_cond_vars: the largest conditioning set tried.
        required_edges: (u, v) pairs kept in the skeleton and oriented u -> v.
        forbidden_edges: (u, v) pairs: an edge forbidden both ways is left out of the skeleton; one
            forbidden one way is oriented the other way if present.

    Returns:
        The CPDAG, an ``nx.DiGraph`` over the data's columns with both directions for undirected edges
        (``cpdag_to_dag`` picks a DAG of the class).
    """
    check_choice("ci_test", ci_test, CI_TESTS)
    alpha = check_float("significance_level", significance_level, 0, 1, low_open=True, high_open=True)
    max_cond_vars = check_int("max_cond_vars", max_cond_vars, 0)
    table = as_table(data, states)
    table.require_complete("structure learning")
    nodes = table.nodes
    required, forbidden = check_constraints(nodes, required_edges, forbidden_edges, None)
    tester = _Tester(table, ci_test, alpha)
    adj, sepset = _skeleton(nodes, tester, max_cond_vars, required, forbidden)
    return _orient(nodes, adj, sepset, tester, max_cond_vars, required, forbidden)
