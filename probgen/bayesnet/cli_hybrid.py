"""``probgen bn info|query|sample`` on networks with continuous nodes (e.g. ``probgen bn query ecoli70 -e
lacZ=1.5``): evidence words read as numbers for continuous nodes, posteriors printed as means and
standard deviations with the method that ran and why, samples written as numbers.

``probgen.bayesnet.cli`` calls these when the loaded network is not all tables (``is_hybrid``).
"""

from __future__ import annotations

import math


def is_hybrid(bn) -> bool:
    return hasattr(bn, "engine")


def evidence_from_words(bn, words) -> dict:
    """``["lacZ=1.5", "sick=yes"]`` -> ``{"lacZ": 1.5, "sick": "yes"}``; a continuous node's value must be
    a finite number, a discrete node's a state (checked here, named)."""
    evidence = {}
    for word in words or []:
        node, sep, value = word.partition("=")
        if not sep or not node or not value:
            raise ValueError(f"evidence {word!r} must look like NODE=VALUE (e.g. lacZ=1.5 or sick=yes)")
        if node not in bn.nodes:
            raise ValueError(f"evidence on unknown node {node!r}; nodes: {bn.nodes[:20]}")
        if bn.is_discrete(node):
            bn.state_index(node, value)
            evidence[node] = value
            continue
        if bn.variables[node].event_shape:
            raise ValueError(f"evidence on {node!r}: an array-valued node cannot be given on the command "
                             "line")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"evidence on continuous node {node!r}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"evidence on {node!r} is {value}; values must be finite")
        evidence[node] = number
    return evidence


def info_rows(bn) -> tuple[list[str], list[list[str]]]:
    rows = []
    for n in bn.nodes:
        kind = f"discrete ({bn.card(n)})" if bn.is_discrete(n) else bn.variables[n].describe()
        rows.append([n, kind, repr(bn.cpd(n))[:70], ", ".join(bn.parents(n)) or "-"])
    return ["node", "kind", "conditional", "parents"], rows


def query_lines(bn, evidence: dict, targets, num_samples: int | None) -> tuple[list[str], list, list]:
    """Header lines, and the rows of the discrete and the continuous nodes' posteriors."""
    post = bn.posterior(evidence, targets, method="lw" if num_samples else "auto", num_samples=num_samples)
    lines = [f"method: {post.method} ({post.reason})"]
    if post.ess is not None:
        lines.append(f"effective sample size {float(post.ess):.0f}")
    if evidence and post.log_evidence is not None:
        lines.append(f"log p(evidence) = {float(post.log_evidence):.6g} (a log density in the continuous "
                     "nodes)")
    disc, cont = [], []
    for n, value in post.items():
        if bn.is_discrete(n):
            disc += [[n, str(s), f"{float(p):.6f}"] for s, p in zip(bn.states(n), value.reshape(-1).tolist())]
        else:
            cont.append([n, f"{float(value.mean):.6g}", f"{float(value.variance) ** 0.5:.6g}"])
    return lines, disc, cont


def sample_rows(bn, num_samples: int) -> tuple[list[str], list[list]]:
    """A header and rows of draws: state names for discrete nodes, numbers for continuous scalar ones."""
    array = [n for n in bn.nodes if not bn.is_discrete(n) and bn.variables[n].event_shape]
    if array:
        raise ValueError(f"nodes {array} are array-valued; sample them from Python (bn.sample), not as CSV")
    draws = bn.sample(num_samples)
    cols = []
    for n in bn.nodes:
        if bn.is_discrete(n):
            states = bn.states(n)
            cols.append([states[k] for k in draws[n].tolist()])
        else:
            cols.append([f"{v:.10g}" for v in draws[n].tolist()])
    return list(bn.nodes), [list(r) for r in zip(*cols)]
