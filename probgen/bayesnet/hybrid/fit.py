"""Learning the conditionals of a CLG network from complete data: least squares and counts.

A ``GaussianCPD`` is fitted, for each configuration of its discrete parents, by ordinary least squares of
the node on its continuous parents with an intercept (``torch.linalg.lstsq``, QR based); its variance is the
maximum-likelihood one, the mean squared residual. A ``TabularCPD`` is fitted by counting, with an optional
pseudo-count per cell. These are the maximum-likelihood estimates (Koller and Friedman, Probabilistic
Graphical Models, 2009, section 17.2.4). ``SoftmaxCPD`` and ``NeuralCPD`` nodes are left as they are:
train those by SVI on the network's Pyro program.
"""

from __future__ import annotations

import math

import torch

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid.evidence import encode_values
from probgen.bayesnet.hybrid.network import HybridNetwork
from probgen.bayesnet.model.gaussian_cpd import GaussianCPD
from probgen.checks import check_float

__all__ = ["fit_clg", "fit_gaussian_cpd", "fit_tabular_cpd"]


def _least_squares(y: torch.Tensor, x: torch.Tensor, where: str) -> tuple[float, torch.Tensor, float]:
    """Intercept, weights ``(m,)`` and ML variance of ``y (M,)`` on ``x (M, m)``."""
    m = x.shape[1]
    if len(y) < m + 1:
        raise ValueError(f"{where}: {len(y)} rows of data for {m + 1} coefficients (intercept and {m} "
                         "weights); give more data or fewer parents")
    design = torch.cat([torch.ones(len(y), 1, dtype=torch.float64), x], 1)  # (M, m + 1)
    sol = torch.linalg.lstsq(design, y.unsqueeze(-1)).solution.squeeze(-1)  # gelsy: rank-revealing QR
    resid = y - design @ sol
    var = float((resid**2).mean())
    scale = max(float(y.var(correction=0)) if len(y) > 1 else 0.0, float(y.abs().max()) ** 2, 1e-300)
    if not var > 1e-12 * scale:  # zero up to float64 round-off
        raise ValueError(f"{where}: the residual variance is 0 (the node is an exact linear function of its "
                         "parents in the data); a Gaussian conditional needs noise")
    return float(sol[0]), sol[1:], var


def fit_gaussian_cpd(node: str, parents: list[str], values: dict, discrete_cards: dict[str, int]
                     ) -> GaussianCPD:
    """Least-squares ``GaussianCPD`` of ``node`` given ``parents`` from complete columns.

    Args:
        node: the node's name.
        parents: its parents; those in ``discrete_cards`` are discrete (int64 state columns).
        values: node -> column ``(M,)``: float64 for continuous nodes, int64 states for discrete ones.
        discrete_cards: discrete node -> number of states.

    Returns:
        A ``GaussianCPD`` with parameters of shape ``(*cards,)``, ``(*cards, m)`` and ``(*cards,)``.
    """
    disc = [p for p in parents if p in discrete_cards]
    cont = [p for p in parents if p not in discrete_cards]
    cards = [discrete_cards[p] for p in disc]
    y = values[node].to(torch.float64)
    x = (torch.stack([values[p].to(torch.float64) for p in cont], -1) if cont
         else torch.zeros(len(y), 0, dtype=torch.float64))
    if not disc:
        b, w, v = _least_squares(y, x, f"node {node!r}")
        return GaussianCPD(parents, weights=w if cont else None, bias=b, variance=v)
    flat = torch.zeros(len(y), dtype=torch.long)
    for p, c in zip(disc, cards):
        flat = flat * c + values[p].long()
    bias = torch.zeros(math.prod(cards), dtype=torch.float64)
    weights = torch.zeros(math.prod(cards), len(cont), dtype=torch.float64)
    variance = torch.zeros(math.prod(cards), dtype=torch.float64)
    for k in range(math.prod(cards)):
        rows = flat == k
        state = dict(zip(disc, (int(i) for i in torch.unravel_index(torch.tensor(k), cards))))
        bias[k], weights[k], variance[k] = _least_squares(
            y[rows], x[rows], f"node {node!r}, discrete parents in states {state}")
    return GaussianCPD(parents, weights=weights.reshape(*cards, len(cont)), bias=bias.reshape(cards),
                       variance=variance.reshape(cards), discrete_parents=disc)


def fit_tabular_cpd(node: str, states: list, parents: list[str], values: dict,
                    cards: dict[str, int], pseudo_count: float = 0.0) -> TabularCPD:
    """Maximum-likelihood (or pseudo-count smoothed) table of a discrete node with discrete parents."""
    pcards = [cards[p] for p in parents]
    flat = torch.zeros(len(values[node]), dtype=torch.long)
    for p, c in zip(parents, pcards):
        flat = flat * c + values[p].long()
    flat = flat * len(states) + values[node].long()
    counts = torch.bincount(flat, minlength=math.prod(pcards) * len(states)).to(torch.float64)
    counts = counts.reshape(*pcards, len(states)) + pseudo_count
    sums = counts.sum(-1, keepdim=True)
    if (sums == 0).any():
        idx = tuple(int(i) for i in (sums.squeeze(-1) == 0).nonzero()[0])
        state = {p: i for p, i in zip(parents, idx)}
        raise ValueError(f"node {node!r}: no data for parent states {state}; pass pseudo_count > 0")
    return TabularCPD(states, counts / sums, parents=parents)


def fit_clg(net: HybridNetwork, data, *, pseudo_count: float = 0.0) -> HybridNetwork:
    """A copy of ``net`` with its ``GaussianCPD`` and ``TabularCPD`` nodes fitted to complete ``data``.

    Args:
        net: the structure (and the conditionals of any softmax or neural node, kept as they are).
        data: dict node -> column or a pandas DataFrame; every node with a fitted conditional, and its
            parents, must have a column.
        pseudo_count: added to every table cell (0: maximum likelihood).
    """
    pseudo_count = check_float("pseudo_count", pseudo_count, 0)
    cols = encode_values(net, data, "data").values
    cards = {n: net.card(n) for n in net.discrete_nodes}
    cpds = {}
    for n in net.declared:
        cpd = net.cpds[n]
        if isinstance(cpd, GaussianCPD | TabularCPD):
            missing = [m for m in [n, *cpd.parents] if m not in cols]
            if missing:
                raise ValueError(f"fitting {n!r} needs data columns {missing}")
        if isinstance(cpd, GaussianCPD):
            cpd = fit_gaussian_cpd(n, cpd.parents, cols, cards)
        elif isinstance(cpd, TabularCPD):
            cpd = fit_tabular_cpd(n, cpd.states, cpd.parents, cols, cards, pseudo_count)
        cpds[n] = cpd
    return HybridNetwork(cpds, name=net.name)
