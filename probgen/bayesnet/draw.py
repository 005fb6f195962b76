"""Drawing a network (a layered layout: roots on top, each node below all its parents) and bar charts of
marginal distributions, with matplotlib.

The layout puts node ``n`` on row ``depth(n)`` (the length of the longest path from a root) and orders
each row by the mean position of the node's parents (the barycentre heuristic of K. Sugiyama, S. Tagawa,
M. Toda, "Methods for visual understanding of hierarchical system structures", 1981), which keeps edges
short and crossings few.
"""

from __future__ import annotations

import os

import matplotlib

if "MPLBACKEND" not in os.environ and matplotlib.get_backend().lower() not in (
        "agg", "module://matplotlib_inline.backend_inline"):
    matplotlib.use("Agg")  # as probgen.plot: files, not windows, unless the user chose a backend
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import torch  # noqa: E402

from probgen.bayesnet.model.graph import layers  # noqa: E402


def layered_positions(graph: nx.DiGraph) -> dict:
    """Node -> (x, y): row -depth, rows centred on x = 0, one unit between neighbours."""
    return {v: (x, -depth) for depth, row in enumerate(layers(graph))
            for x, v in zip(_centred(len(row)), row)}


def _centred(k: int) -> list[float]:
    return [i - (k - 1) / 2 for i in range(k)]


def draw_network(bn, ax=None, *, highlight=(), title: str | None = None, font_size: float | None = None):
    """Draw ``bn``'s DAG on ``ax`` (a new figure if None) and return the axis.

    Args:
        highlight: nodes to colour differently (e.g. the observed ones).
        font_size: label size (default: smaller for larger networks).
    """
    g = bn.graph
    pos = layered_positions(g)
    widest = max(len(row) for row in layers(g))
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 1.3 * widest, 40), min(1.5 + 1.2 * len(layers(g)), 40)))
    font_size = font_size or (10 if len(g) <= 20 else 7 if len(g) <= 60 else 5)
    highlight = set(highlight)
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowstyle="-|>", arrowsize=10, node_size=700,
                           edge_color="#555555", width=0.9)
    for colour, nodes in (("#a8dadc", [n for n in g.nodes if n not in highlight]),
                          ("#f4a261", [n for n in g.nodes if n in highlight])):
        box = {"boxstyle": "round,pad=0.3", "fc": colour, "ec": "#1d3557"}
        nx.draw_networkx_labels(g.subgraph(nodes), pos, ax=ax, font_size=font_size, bbox=box)
    ax.set_axis_off()
    ax.margins(0.08)
    if title:
        ax.set_title(title)
    return ax


def plot_marginals(bn, marginals: dict, ax=None, *, reference: dict | None = None, labels=("after", "before"),
                   title: str | None = None):
    """Horizontal bars of each node's marginal distribution, optionally next to ``reference`` ones.

    Args:
        marginals: dict node -> tensor (card,) of probabilities (e.g. ``bn.posterior(...)``).
        reference: another such dict drawn as outlined bars (e.g. the prior marginals).
    """
    nodes = [n for n in bn.nodes if n in marginals]
    rows = [(n, s) for n in nodes for s in bn.states(n)]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.28 * len(rows) + 1))
    y = list(range(len(rows)))
    values = _flat(marginals, nodes)
    ax.barh(y, values, height=0.7, color="#457b9d", label=labels[0] if reference else None)
    if reference is not None:
        ref = _flat(reference, nodes)
        ax.barh(y, ref, height=0.7, fill=False, edgecolor="#e63946", linewidth=1.2, label=labels[1])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    ax.set_yticks(y, [f"{n} = {s}" for n, s in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    if title:
        ax.set_title(title)
    return ax


def _flat(marginals: dict, nodes: list) -> list[float]:
    return [float(p) for n in nodes for p in torch.as_tensor(marginals[n], dtype=torch.float64).reshape(-1)]
