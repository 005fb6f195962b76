"""``BayesNet.fit``: a network's tables re-estimated from data, its graph kept.

Three methods: maximum likelihood ("mle"), a Dirichlet prior ("bayes": BDeu, K2 or given pseudo-counts;
the posterior mean) and expectation-maximisation ("em", ``em.py``) for rows with missing cells and for
latent nodes (nodes without a column). When cells are missing or nodes are latent, "mle" and "bayes"
switch to EM with the same prior and log a note (logger ``probgen.bayesnet.learn.fit``).

Each kind of conditional plugs in its estimator (``register_estimator``): ``TabularCPD`` has the counting
one here; another kind (e.g. a Gaussian CPD) registers a function ``(bn, node, data: FitData, options:
FitOptions) -> CPD`` and says whether its node's column is discrete (encoded into state codes, usable as
a parent of tables) or not (handed over raw). EM needs every conditional tabular.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from probgen.bayesnet.learn.data import DataTable, _columns
from probgen.bayesnet.learn.em import EMResult, run_em
from probgen.bayesnet.learn.parameters import check_prior, estimate_table, pseudo_counts_for
from probgen.bayesnet.model.cpd import TabularCPD
from probgen.bayesnet.model.encoding import short_list, unknown_node
from probgen.bayesnet.model.network import BayesNet
from probgen.checks import check_choice, check_float, check_int

__all__ = ["fit_network", "FitOptions", "FitData", "register_estimator", "prepare_data", "initial_tables",
           "METHODS"]

log = logging.getLogger(__name__)

METHODS = ("mle", "bayes", "em")


@dataclass(frozen=True)
class FitOptions:
    """The checked arguments of one fit (shared by every node's estimator)."""

    method: str  # "mle", "bayes" or "em"
    prior: str  # "mle", "bdeu", "k2" or "dirichlet"
    equivalent_sample_size: float
    pseudo_counts: object  # None, a number, or dict node -> number or table


@dataclass
class FitData:
    """The data of one fit: ``table`` holds the discrete columns as state codes (``DataTable``), ``raw``
    the other columns as given (dict node -> column), for estimators of non-discrete conditionals."""

    table: DataTable
    raw: dict


@dataclass(frozen=True)
class _Estimator:
    fit: Callable  # (bn, node, data: FitData, options: FitOptions) -> CPD
    discrete: bool


_ESTIMATORS: dict[type, _Estimator] = {}


def register_estimator(cpd_type: type, fit: Callable, *, discrete: bool) -> None:
    """Make ``bn.fit`` estimate nodes whose CPD is a ``cpd_type`` with ``fit(bn, node, data, options)``.

    ``discrete``: the node's column holds states (encoded by the network's state encoder into
    ``data.table``); otherwise it is passed raw in ``data.raw``.
    """
    _ESTIMATORS[cpd_type] = _Estimator(fit, discrete)


def _fit_tabular(bn: BayesNet, node: str, data: FitData, options: FitOptions) -> TabularCPD:
    counts = data.table.counts(node, bn.parents(node))  # (*parent_cards, card)
    alpha = pseudo_counts_for(options.prior, node, counts.shape, options.equivalent_sample_size,
                              options.pseudo_counts)
    return TabularCPD(bn.states(node), estimate_table(counts, alpha), bn.parents(node),
                      parent_cards=counts.shape[:-1])


register_estimator(TabularCPD, _fit_tabular, discrete=True)


def _estimator(bn: BayesNet, node: str) -> _Estimator:
    kind = type(bn.cpd(node))
    for cls in kind.__mro__:
        if cls in _ESTIMATORS:
            return _ESTIMATORS[cls]
    raise TypeError(f"node {node!r}: no estimator for conditionals of type {kind.__name__}; register one "
                    "with probgen.bayesnet.learn.fit.register_estimator")


def _options(method, prior, equivalent_sample_size, pseudo_counts) -> FitOptions:
    check_choice("method", method, METHODS)
    if prior is None:
        prior = "bdeu" if method == "bayes" else "mle"
    elif method == "mle" and prior != "mle":
        raise ValueError(f"method='mle' takes no prior, got prior={prior!r}; use method='bayes' (or 'em') "
                         "to add pseudo-counts")
    prior, ess = check_prior(prior, equivalent_sample_size, pseudo_counts)
    if method == "bayes" and prior == "mle":
        raise ValueError("method='bayes' needs a prior: 'bdeu', 'k2' or 'dirichlet'")
    return FitOptions(method, prior, ess, pseudo_counts)


def _node_set(bn: BayesNet, nodes, name: str) -> set[str]:
    if nodes is None:
        return set()
    nodes = [nodes] if isinstance(nodes, str) else list(nodes)
    for n in nodes:
        if n not in bn.cards:
            raise unknown_node(n, bn.nodes, f"`{name}` names an ")
    return set(nodes)


def _split_columns(bn: BayesNet, data, latent: set, ignore_extra: bool) -> dict:
    """The data's columns for the network's nodes; extra columns refused (or dropped), declared latent
    nodes' columns allowed only when entirely missing (then dropped)."""
    columns = _columns(data)
    extra = [c for c in columns if c not in bn.cards]
    if extra and not ignore_extra:
        raise ValueError(f"data columns {short_list(extra)} are not nodes of the network (nodes: "
                         f"{short_list(bn.nodes)}); drop them or pass ignore_extra=True")
    columns = {n: c for n, c in columns.items() if n in bn.cards}
    absent = [n for n in bn.nodes if n not in columns and n not in latent]
    if absent:
        raise ValueError(f"nodes {short_list(absent)} have no column in the data; give their columns, or "
                         f"declare them latent (latent={set(absent)!r}) to fit them by EM")
    return columns


def fit_network(bn: BayesNet, data, *, method: str = "mle", prior: str | None = None,
                equivalent_sample_size: float = 10.0, pseudo_counts=None, latent=None, init=None,
                ignore_extra: bool = False, max_iter: int = 100, tol: float = 1e-6,
                n_restarts: int | None = None, generator: torch.Generator | None = None) -> BayesNet:
    """See ``BayesNet.fit``."""
    options = _options(method, prior, equivalent_sample_size, pseudo_counts)
    max_iter, tol = check_int("max_iter", max_iter, 1), check_float("tol", tol, 0)
    latent = _node_set(bn, latent, "latent")
    init = _check_init(bn, init)
    latent |= {n for n in (init if isinstance(init, Mapping) else {}) if n not in _column_names(data)}
    if n_restarts is not None:
        n_restarts = check_int("n_restarts", n_restarts, 1)
    discrete = {n for n in bn.nodes if _estimator(bn, n).discrete}
    table, columns, latent = prepare_data(bn, data, latent, ignore_extra, discrete)
    gaps = table.num_missing_cells
    if options.method != "em" and (gaps or latent):
        what = f"{gaps} missing cells" if gaps else ""
        what += (" and " if gaps and latent else "") + (f"latent nodes {sorted(latent)}" if latent else "")
        log.info("the data has %s: fitting by EM with prior %r", what, options.prior)
    if options.method == "em" or gaps or latent:
        return _fit_em(bn, table, columns, options, latent, init, max_iter, tol, n_restarts, generator)
    data = FitData(table, {n: c for n, c in columns.items() if n not in discrete})
    g = bn.graph.copy()
    for n in bn.nodes:
        g.nodes[n]["cpd"] = _estimator(bn, n).fit(bn, n, data, options)
    fitted = BayesNet(g)
    fitted.fit_info = EMResult(options.method)
    return fitted


def prepare_data(bn: BayesNet, data, latent: set, ignore_extra: bool, discrete=None):
    """``(DataTable of the discrete columns, all columns, latent nodes)`` for fitting ``bn``: extra
    columns refused (or dropped), nodes without a column latent if declared (else an error), and the
    declared latent nodes' all-missing columns dropped."""
    discrete = set(bn.nodes) if discrete is None else discrete
    columns = _split_columns(bn, data, latent, ignore_extra)
    table = DataTable({n: c for n, c in columns.items() if n in discrete},
                      {n: bn.states(n) for n in discrete}, allow_missing=True)
    return table, columns, latent | _empty_columns(table, latent)


def _column_names(data) -> set[str]:
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return {str(c) for c in data.columns}
    return {str(c) for c in data} if isinstance(data, Mapping) else set()


def _empty_columns(table: DataTable, latent: set) -> set[str]:
    """Declared latent nodes whose column is entirely missing; any other all-missing column is an error."""
    out = set()
    for n in list(table.nodes):
        if table.has_missing(n) and not bool((table.codes[n] >= 0).any()):
            if n not in latent:
                raise ValueError(f"data column {n!r} has no observed cell; declare the node latent "
                                 f"(latent={{{n!r}}}) or drop the column")
            out.add(n)
    return out


def _check_init(bn: BayesNet, init):
    """None, "network", or dict node -> TabularCPD or table of the CPT's shape (checked, as float64)."""
    if init is None or init == "network":
        return init
    if not isinstance(init, Mapping):
        raise TypeError(f"`init` must be None, 'network' or a dict node -> TabularCPD or table, got "
                        f"{type(init).__name__}")
    out = {}
    for n, t in init.items():
        _node_set(bn, [n], "init")
        if isinstance(t, TabularCPD) and (t.states != bn.states(n) or t.parents != bn.parents(n)):
            raise ValueError(f"init[{n!r}]: a TabularCPD over states {t.states} given {t.parents}; the node "
                             f"has states {bn.states(n)} given {bn.parents(n)}")
        try:
            cpd = TabularCPD(bn.states(n), t.probs if isinstance(t, TabularCPD) else t, bn.parents(n),
                             parent_cards=bn.cpt(n).shape[:-1])
        except (ValueError, TypeError) as e:
            raise type(e)(f"init[{n!r}]: {e}") from None
        out[n] = cpd.probs
    return out


def _fit_em(bn, table, columns, options, latent, init, max_iter, tol, n_restarts, generator) -> BayesNet:
    kinds = sorted({type(bn.cpd(n)).__name__ for n in bn.nodes if not isinstance(bn.cpd(n), TabularCPD)})
    if kinds:
        raise TypeError(f"EM needs every conditional tabular; this network has {kinds}")
    if len(table.nodes) != len(columns):
        raise TypeError("EM needs every column discrete")
    alphas = [pseudo_counts_for(options.prior, n, bn.cpt(n).shape, options.equivalent_sample_size,
                                options.pseudo_counts) for n in bn.nodes]
    n_restarts = n_restarts or (5 if latent else 1)
    starts = (initial_tables(bn, table, alphas, latent, init if r == 0 else None, generator)
              for r in range(n_restarts))
    result = run_em(bn, table, alphas, starts, max_iter=max_iter, tol=tol, latent=latent)
    fitted = result.network
    result.network = None
    fitted.fit_info = result
    return fitted


def initial_tables(bn: BayesNet, table: DataTable, alphas, latent: set, init, generator
                   ) -> list[torch.Tensor]:
    """Initial tables: given ones (``init``), random rows for families with a latent node, and for the
    others the counts over rows where the family is observed plus the prior plus one (no zeros)."""
    out = []
    for n, a in zip(bn.nodes, alphas):
        family = [*bn.parents(n), n]
        if init == "network":
            out.append(bn.cpt(n).clone())
        elif isinstance(init, Mapping) and n in init:
            out.append(init[n].clone())
        elif latent & set(family):
            g = torch.empty(a.shape, dtype=torch.float64).exponential_(generator=generator)  # Gamma(1)
            out.append(g / g.sum(-1, keepdim=True))  # rows ~ Dirichlet(1, ..., 1)
        else:
            out.append(estimate_table(table.counts(n, bn.parents(n)), a + 1.0))
    return out
