"""Structure learning (model selection), one entry point: ``learn_structure``, and ``learn_network`` for a
whole network (structure, then tables).

- "hill-climb": greedy hill climbing over DAGs with a decomposable score and random restarts
  (``hillclimb.py``);
- "tabu": the same with tabu search, which walks on past local optima;
- "pc": the PC-stable algorithm with chi-square or G tests (``pcalg.py``); it returns a CPDAG, whose
  ``cpdag_to_dag`` (``cpdag.py``) is a DAG of the learned equivalence class.
"""

from __future__ import annotations

import networkx as nx

from probgen.bayesnet.learn.cpdag import cpdag_to_dag
from probgen.bayesnet.learn.data import as_table
from probgen.bayesnet.learn.hillclimb import hill_climb
from probgen.bayesnet.learn.parameters import fit_parameters
from probgen.bayesnet.learn.pcalg import pc
from probgen.checks import check_choice

__all__ = ["learn_structure", "learn_network", "STRUCTURE_METHODS"]

STRUCTURE_METHODS = ("hill-climb", "tabu", "pc")
_SEARCH_ONLY = ("score", "max_indegree", "start", "restarts", "tabu_steps", "tabu_length", "max_iter",
                "epsilon", "equivalent_sample_size", "seed")
_PC_ONLY = ("ci_test", "significance_level", "max_cond_vars")


def learn_structure(data, method: str = "hill-climb", *, score: str | None = None,
                    max_indegree: int | None = None, required_edges=(), forbidden_edges=(),
                    start: nx.DiGraph | None = None, restarts: int | None = None, states=None,
                    **options) -> nx.DiGraph:
    """Learn a graph over the data's columns.

    Args:
        data: a ``DataTable``, a dict node -> column, a pandas DataFrame or a CSV path (complete rows).
        method: "hill-climb" (default), "tabu" or "pc".
        score: "bic" (default), "bdeu", "k2" or "loglik" (hill climbing and tabu search).
        max_indegree: the most parents a node may have (hill climbing and tabu search).
        required_edges, forbidden_edges: (u, v) pairs that must / must not appear.
        start: the searches' initial DAG (default: no edges).
        restarts: further climbs with random tie-breaks (default 10 for "hill-climb" and "tabu").
        **options: ``hill_climb``'s (``tabu_steps``: default 30 for "tabu", 0 for "hill-climb";
            ``tabu_length``, ``max_iter``, ``epsilon``, ``equivalent_sample_size``, ``seed``) or ``pc``'s
            (``ci_test``, ``significance_level``, ``max_cond_vars``).

    Returns:
        An ``nx.DiGraph``: a DAG from the searches, a CPDAG (both directions for an undirected edge) from
        "pc".
    """
    check_choice("method", method, STRUCTURE_METHODS)
    given = {**options, **{k: v for k, v in (("score", score), ("max_indegree", max_indegree),
                                             ("start", start), ("restarts", restarts)) if v is not None}}
    foreign = [k for k in given if k in (_SEARCH_ONLY if method == "pc" else _PC_ONLY)]
    unknown = [k for k in options if k not in _SEARCH_ONLY + _PC_ONLY]
    if unknown:
        raise TypeError(f"learn_structure got unknown options {unknown}; known: "
                        f"{sorted(_SEARCH_ONLY + _PC_ONLY)}")
    if foreign:
        raise ValueError(f"options {foreign} do not apply to method={method!r}")
    table = as_table(data, states)
    if method == "pc":
        return pc(table, required_edges=required_edges, forbidden_edges=forbidden_edges, **options)
    options.setdefault("tabu_steps", 30 if method == "tabu" else 0)
    return hill_climb(table, score=score or "bic", max_indegree=max_indegree, required_edges=required_edges,
                      forbidden_edges=forbidden_edges, start=start,
                      restarts=10 if restarts is None else restarts, **options)


def learn_network(data, *, graph: nx.DiGraph | None = None, method: str = "hill-climb", states=None,
                  prior: str = "bdeu", equivalent_sample_size: float = 10.0, **search):
    """Structure and parameters from complete data: ``learn_structure`` (unless ``graph`` is given; a
    CPDAG from "pc" becomes one of its DAGs), then ``fit_parameters`` with ``prior``.

    Extra keywords go to ``learn_structure``; the BDeu ``equivalent_sample_size`` serves both the score
    and the tables.
    """
    table = as_table(data, states)
    if graph is None:
        if method != "pc":
            search.setdefault("equivalent_sample_size", equivalent_sample_size)
        graph = learn_structure(table, method, **search)
        if method == "pc":
            graph = cpdag_to_dag(graph)
    elif search:
        raise TypeError(f"search options {sorted(search)} make no sense with a given graph")
    return fit_parameters(graph, table, prior=prior, equivalent_sample_size=equivalent_sample_size)
