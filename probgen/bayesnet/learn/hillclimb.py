"""Score-based structure learning: greedy hill climbing and tabu search over DAGs, with random restarts.

Each step applies the single edge change (add, remove or reverse) that raises a decomposable score most,
among the changes that keep the graph acyclic and respect the constraints (a tabu list of recently undone
changes, a maximum in-degree, forbidden and required edges). Hill climbing stops when no change helps by
more than ``epsilon``; tabu search (``tabu_steps > 0``) keeps taking the best allowed change, even a
worsening one, for up to ``tabu_steps`` steps without a new best graph, so it can walk off a local
optimum. Random restarts climb again from the start with ties between equally good moves broken at
random, which leads them to other local optima; the best graph of all climbs is kept.

Because the score decomposes over nodes, the gain of adding or removing ``u -> v`` depends only on ``v``'s
parents: the gains live in two D x D matrices and a step recomputes the columns of the one or two nodes
whose parents changed (local scores cached per (node, parent set)); reversal gains are sums of the two.
Acyclicity comes from the transitive closure of the graph, recomputed per step as D boolean row updates.

References: D. Koller and N. Friedman, Probabilistic Graphical Models (2009), section 18.4.3;
D. M. Chickering, D. Geiger, D. Heckerman, "Learning Bayesian networks: search methods and experimental
results", AISTATS 1995 (tabu search, random restarts).
"""

from __future__ import annotations

from collections import deque

import networkx as nx
import numpy as np

from probgen.bayesnet.learn.constraints import check_constraints, start_graph
from probgen.bayesnet.learn.data import DataTable, as_table
from probgen.bayesnet.learn.scores import SCORES, counts_score
from probgen.checks import check_choice, check_float, check_int

__all__ = ["hill_climb"]

_ADD, _REMOVE, _FLIP = 0, 1, 2
TIE_BREAK = 1e-6  # random priorities of restarts: far above float noise, far below a score difference
_UNDO = {_ADD: _REMOVE, _REMOVE: _ADD, _FLIP: _FLIP}


class _Scorer:
    """Cached local scores of one data table, parents as a frozenset of column indices."""

    def __init__(self, table: DataTable, score: str, ess: float) -> None:
        self.table, self.score, self.ess, self.cache = table, score, ess, {}
        self.names = table.nodes

    def __call__(self, v: int, parents: frozenset) -> float:
        key = (v, parents)
        s = self.cache.get(key)
        if s is None:
            counts = self.table.count_array(self.names[v], [self.names[p] for p in sorted(parents)])
            s = self.cache[key] = counts_score(counts, self.score, self.table.num_rows, self.ess)
        return s


class _Graph:
    """A DAG over column indices with its local scores and the gain of every single-edge change."""

    def __init__(self, g: nx.DiGraph, nodes: list[str], scorer: _Scorer) -> None:
        d = len(nodes)
        self.scorer, self.d = scorer, d
        index = {n: i for i, n in enumerate(nodes)}
        self.adj = np.zeros((d, d), dtype=bool)  # adj[u, v]: u -> v
        for u, v in g.edges:
            self.adj[index[u], index[v]] = True
        self.local = np.zeros(d)
        self.add = np.full((d, d), -np.inf)  # gain of adding u -> v
        self.rem = np.full((d, d), -np.inf)  # gain of removing u -> v
        for v in range(d):
            self.refresh(v)

    def parents(self, v: int) -> frozenset:
        return frozenset(np.flatnonzero(self.adj[:, v]).tolist())

    def refresh(self, v: int) -> None:
        """Recompute ``v``'s local score and the gains of changing its in-edges."""
        pv = self.parents(v)
        base = self.local[v] = self.scorer(v, pv)
        for u in range(self.d):
            if u == v:
                continue
            if u in pv:
                self.rem[u, v], self.add[u, v] = self.scorer(v, pv - {u}) - base, -np.inf
            else:
                self.add[u, v], self.rem[u, v] = self.scorer(v, pv | {u}) - base, -np.inf

    @property
    def total(self) -> float:
        return float(self.local.sum())

    def apply(self, kind: int, u: int, v: int) -> None:
        if kind == _ADD:
            self.adj[u, v] = True
        elif kind == _REMOVE:
            self.adj[u, v] = False
        else:
            self.adj[u, v], self.adj[v, u] = False, True
            self.refresh(u)
        self.refresh(v)

    def snapshot(self) -> np.ndarray:
        return self.adj.copy()

    def reach(self) -> np.ndarray:
        """Transitive closure: ``reach[a, b]`` when a path of length >= 1 leads from a to b."""
        r = self.adj.copy()
        for k in range(self.d):
            r |= r[:, k:k + 1] & r[k:k + 1, :]
        return r


class _Moves:
    """Legal moves and their gains: constraints, acyclicity and the tabu list."""

    def __init__(self, d: int, nodes, max_indegree, required: set, forbidden: set, tabu_length: int) -> None:
        index = {n: i for i, n in enumerate(nodes)}
        self.max_indegree = max_indegree
        self.required = np.zeros((d, d), dtype=bool)
        self.forbidden = np.zeros((d, d), dtype=bool)
        for u, v in required:
            self.required[index[u], index[v]] = True
        for u, v in forbidden:
            self.forbidden[index[u], index[v]] = True
        self.tabu: deque = deque(maxlen=tabu_length)
        self.jitter: np.ndarray | None = None  # (3, D, D) random tie-breaks, or None (first index wins)

    def gains(self, g: _Graph) -> np.ndarray:
        """``(3, D, D)`` gains of adding, removing and reversing ``u -> v``; -inf where not allowed."""
        reach = g.reach()
        full = np.zeros(g.d, dtype=bool)
        if self.max_indegree is not None:
            full = g.adj.sum(0) >= self.max_indegree  # (D,) in-degree at the limit
        add = np.where(g.adj | g.adj.T | reach.T | self.forbidden | full[None, :], -np.inf, g.add)
        np.fill_diagonal(add, -np.inf)
        rem = np.where(g.adj & ~self.required, g.rem, -np.inf)
        other_path = (g.adj.astype(np.int32) @ reach.astype(np.int32)) > 0  # u reaches v besides u -> v
        flip_ok = g.adj & ~self.required & ~self.forbidden.T & ~other_path & ~full[:, None]
        flip = np.where(flip_ok, g.rem + g.add.T, -np.inf)
        out = np.stack([add, rem, flip])
        for kind, u, v in self.tabu:
            out[kind, u, v] = -np.inf
        if self.jitter is not None:
            out += self.jitter
        return out

    def best(self, g: _Graph) -> tuple[tuple[int, int, int] | None, float]:
        gains = self.gains(g)
        k = int(np.argmax(gains))
        gain = float(gains.flat[k])
        if gain == -np.inf:
            return None, gain
        return tuple(int(x) for x in np.unravel_index(k, gains.shape)), gain

    def apply(self, g: _Graph, move) -> None:
        kind, u, v = move
        g.apply(kind, u, v)
        self.tabu.append((_UNDO[kind], v, u) if kind == _FLIP else (_UNDO[kind], u, v))


def _climb(g: _Graph, moves: _Moves, max_iter: int, epsilon: float, tabu_steps: int):
    """Hill climbing, then up to ``tabu_steps`` non-improving steps: ``(best adjacency, its score)``."""
    best, best_score = g.snapshot(), g.total
    stale = 0
    for _ in range(max_iter):
        move, gain = moves.best(g)
        if move is None or (gain <= epsilon and stale >= tabu_steps):
            break
        moves.apply(g, move)
        if g.total > best_score + epsilon:
            best, best_score, stale = g.snapshot(), g.total, 0
        else:
            stale += 1
    return best, best_score


def hill_climb(data, *, score: str = "bic", states=None, start: nx.DiGraph | None = None,
               max_indegree: int | None = None, forbidden_edges=(), required_edges=(),
               tabu_length: int = 100, tabu_steps: int = 0, restarts: int = 0, max_iter: int = 10_000,
               epsilon: float = 1e-4, equivalent_sample_size: float = 10.0, seed: int = 0) -> nx.DiGraph:
    """Learn a DAG over the data's columns by hill climbing (or tabu search), with random restarts.

    Args:
        data: a ``DataTable``, a dict node -> column, a pandas DataFrame or a CSV path (complete rows).
        score: "bic" (default), "bdeu", "k2" or "loglik" (no penalty: it only ever adds edges).
        start: the initial DAG (default: no edges; required edges are added to it).
        max_indegree: the most parents a node may have (None: no limit).
        forbidden_edges, required_edges: (u, v) pairs that must not / must appear.
        tabu_length: how many recent moves may not be undone.
        tabu_steps: steps without a new best graph that tabu search takes before it stops (0: plain
            hill climbing, which stops at the first local optimum).
        restarts: further climbs from ``start``, each breaking ties between equally good moves at
            random (score-equivalent edges such as A -> B and B -> A tie exactly, and the choice decides
            which local optimum a climb reaches); the best graph of all climbs is kept.
        max_iter: the most moves per climb.
        epsilon: a move improves when it raises the score by more than this.
        equivalent_sample_size: the ESS of the "bdeu" score.
        seed: the random source of the restarts' tie-breaks.

    Returns:
        The learned ``nx.DiGraph`` (nodes in the data's column order).
    """
    check_choice("score", score, SCORES)
    table = as_table(data, states)
    table.require_complete("structure learning")
    if max_indegree is not None:
        max_indegree = check_int("max_indegree", max_indegree, 0)
    tabu_length, tabu_steps = check_int("tabu_length", tabu_length, 0), check_int("tabu_steps", tabu_steps, 0)
    restarts, max_iter = check_int("restarts", restarts, 0), check_int("max_iter", max_iter, 0)
    epsilon = check_float("epsilon", epsilon, 0)
    ess = check_float("equivalent_sample_size", equivalent_sample_size, 0, low_open=True)
    nodes = table.nodes
    required, forbidden = check_constraints(nodes, required_edges, forbidden_edges, max_indegree)
    first = start_graph(nodes, start, required, forbidden, max_indegree)
    scorer = _Scorer(table, score, ess)
    rng = np.random.default_rng(seed)
    best, best_score = None, -np.inf
    for r in range(restarts + 1):
        g = _Graph(first, nodes, scorer)
        moves = _Moves(len(nodes), nodes, max_indegree, required, forbidden, tabu_length)
        if r:  # ties broken at random, below any real difference of scores
            moves.jitter = rng.uniform(0.0, TIE_BREAK, (3, len(nodes), len(nodes)))
        adj, total = _climb(g, moves, max_iter, epsilon, tabu_steps)
        if total > best_score + epsilon:
            best, best_score = adj, total
    out = nx.DiGraph()
    out.add_nodes_from(nodes)
    out.add_edges_from((nodes[u], nodes[v]) for u, v in np.argwhere(best))
    return out
