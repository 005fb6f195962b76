"""Expectation-maximisation for a network's tables from rows with missing cells and latent nodes.

Each iteration runs the E-step (``estep.py``: the exact engine's expected family counts over the rows with
gaps; complete rows contribute their counts directly) and a closed-form M-step with the prior's
pseudo-counts, ``theta[u, x] = (N[u, x] + E[N(u, x)] + a[u, x]) / sum_x (...)``, the same estimate as
``fit_parameters`` on complete data. The observed-data log-likelihood ``sum_b log P(e_b)`` never
decreases (with a prior, the log-likelihood plus ``sum a log theta`` never decreases); EM stops when its
relative change falls below ``tol``. With latent nodes the likelihood has many local maxima (at least
one per relabelling of a latent node's states), so EM runs from several random starts and keeps the best.

Reference: A. P. Dempster, N. M. Laird, D. B. Rubin, "Maximum likelihood from incomplete data via the EM
algorithm", JRSS B 39 (1977); D. Koller and N. Friedman, Probabilistic Graphical Models (2009), 19.2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import networkx as nx
import torch

from probgen.bayesnet.learn.data import DataTable
from probgen.bayesnet.learn.estep import EStep, distinct_rows
from probgen.bayesnet.learn.parameters import estimate_table
from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.network import BayesNet

__all__ = ["EMResult", "run_em", "network_with_tables"]

log = logging.getLogger(__name__)


@dataclass
class EMResult:
    """What an EM fit did (``bn.fit(...).fit_info`` holds it, without the network).

    Attributes:
        method: "em" (or "mle"/"bayes" for complete data, where the trace has one entry).
        log_likelihood: the observed-data log-likelihood after each iteration of the best start (the last
            entry is the returned tables').
        converged: whether the relative change fell below ``tol`` before ``max_iter``.
        iterations: M-steps of the best start.
        restart_log_likelihoods: the final log-likelihood of every start; ``best_restart`` indexes it.
        latent: the latent nodes.
    """

    method: str
    log_likelihood: list[float] = field(default_factory=list)
    converged: bool = True
    iterations: int = 0
    restart_log_likelihoods: list[float] = field(default_factory=list)
    best_restart: int = 0
    latent: list[str] = field(default_factory=list)
    network: BayesNet | None = field(default=None, repr=False)


def network_with_tables(bn: BayesNet, tables: list[torch.Tensor]) -> BayesNet:
    """A copy of ``bn`` (graph, states, parent order, properties) with new CPTs, in ``bn.nodes`` order."""
    g = nx.DiGraph()
    g.graph.update(bn.graph.graph)
    g.add_nodes_from(bn.graph.nodes(data=True))
    g.add_edges_from(bn.graph.edges)
    for n, t in zip(bn.nodes, tables):
        g.nodes[n]["cpd"] = TabularCPD(bn.states(n), t, bn.parents(n), parent_cards=t.shape[:-1])
    return BayesNet(g)


def _family_counts(bn: BayesNet, codes: torch.Tensor) -> list[torch.Tensor]:
    """Counts N[u, x] of every family over complete rows ``codes`` (R, D), float64, in ``bn.nodes`` order."""
    col = {n: j for j, n in enumerate(bn.nodes)}
    out = []
    for n in bn.nodes:
        family = [*bn.parents(n), n]
        cards = [bn.card(p) for p in family]
        flat = torch.zeros(len(codes), dtype=torch.int64)
        for p, c in zip(family, cards):
            flat = flat * c + codes[:, col[p]]
        size = 1
        for c in cards:
            size *= c
        out.append(torch.bincount(flat, minlength=size).to(torch.float64).reshape(cards))
    return out


class _Problem:
    """The data of one EM fit, split once: counts of complete rows and an E-step over the rest."""

    def __init__(self, bn: BayesNet, table: DataTable, alphas: list[torch.Tensor]) -> None:
        self.bn, self.table, self.alphas = bn, table, alphas
        num_rows = table.num_rows
        codes = torch.stack([table.columns[n] if n in table.columns else
                             torch.full((num_rows,), -1, dtype=torch.int64) for n in bn.nodes], 1)  # (N, D)
        complete = (codes >= 0).all(1)
        self.complete_counts = _family_counts(bn, codes[complete])
        rows, weights = distinct_rows(codes[~complete])
        self.estep = EStep(bn, rows, weights) if len(rows) else None

    def step(self, theta: list[torch.Tensor]) -> tuple[float, float, list[torch.Tensor]]:
        """``(log-likelihood, objective, new tables)`` at ``theta``: one E-step and one M-step."""
        ll, expected = self.estep(theta) if self.estep is not None else (0.0, [0.0] * len(theta))
        ll += sum(float(torch.xlogy(c, t).sum()) for c, t in zip(self.complete_counts, theta))
        objective = ll + sum(float(torch.xlogy(a, t).sum()) for a, t in zip(self.alphas, theta))
        new = [estimate_table(c + e, a) for c, e, a in zip(self.complete_counts, expected, self.alphas)]
        return ll, objective, new


def run_em(bn: BayesNet, table: DataTable, alphas: list[torch.Tensor], starts, *, max_iter: int,
           tol: float, latent=()) -> EMResult:
    """EM from each start in ``starts`` (an iterable of lists of tables in ``bn.nodes`` order); the start
    with the highest final objective wins.

    Returns:
        An ``EMResult`` whose ``network`` holds the best tables.
    """
    problem = _Problem(bn, table, alphas)
    best: EMResult | None = None
    best_obj, finals = -float("inf"), []
    for r, theta in enumerate(starts):
        result, theta, obj = _climb(problem, theta, max_iter, tol)
        finals.append(result.log_likelihood[-1])
        log.debug("EM start %d: log-likelihood %.6g after %d iterations", r, finals[-1], result.iterations)
        if obj > best_obj or best is None:
            best, best_obj, best_r = result, obj, r
            best.network = network_with_tables(bn, theta)
    best.restart_log_likelihoods, best.best_restart, best.latent = finals, best_r, sorted(latent)
    return best


def _climb(problem: _Problem, theta: list[torch.Tensor], max_iter: int, tol: float):
    """EM iterations from ``theta`` until the relative change of the objective is at most ``tol``."""
    result = EMResult("em", converged=False)
    prev = None
    for it in range(max_iter + 1):
        ll, obj, new = problem.step(theta)
        result.log_likelihood.append(ll)
        if prev is not None and abs(obj - prev) <= tol * max(abs(prev), 1e-300):
            result.converged = True
            break
        if it == max_iter:
            break
        theta, prev = new, obj
        result.iterations = it + 1
    return result, theta, obj
