"""Gaussian networks as JSON, in pgmpy's format, and the four bnlearn Gaussian networks shipped with probgen.

``read_json`` returns a :class:`~probgen.bayesnet.BayesNet` of ``GaussianCPD`` nodes; ``write_json`` and
``json_dict`` take a ``BayesNet`` (or the engine's ``HybridNetwork``).

The format (pgmpy's ``LinearGaussianBayesianNetwork.save``/``load``)::

    {"nodes": [...], "arcs": [[parent, child], ...],
     "cpds": {node: {"coefficients": {"(Intercept)": [b], parent: [w], ...},
                     "variance": [v], "parents": [...]}}}

``variance`` is a variance (pgmpy takes its square root as the standard deviation). ecoli70, magic-niab,
magic-irri and arth150 are copied from pgmpy 1.1.2 (``pgmpy/utils/example_models``), which took them from
the bnlearn Bayesian network repository (Marco Scutari); see ``data/GAUSSIAN-NETWORKS.md`` for sources and
licence. ``probgen.bayesnet.load_network`` finds them by name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import networkx as nx

from probgen.bayesnet.model.gaussian_cpd import GaussianCPD

__all__ = ["json_cpds", "json_dict", "list_gaussian_networks", "read_json",
           "write_json"]

DATA = Path(__file__).parent / "data"
INTERCEPT = "(Intercept)"


def _scalar(v, what: str) -> float:
    if isinstance(v, list | tuple):
        if len(v) != 1:
            raise ValueError(f"{what} must be one number (or a list of one), got {v!r}")
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{what} must be a number, got {v!r}")
    return float(v)


def _cpd_from_json(node: str, entry, where: str) -> GaussianCPD:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: cpds[{node!r}] must be an object, got {entry!r}")
    for key in ("coefficients", "variance"):
        if key not in entry:
            raise ValueError(f"{where}: cpds[{node!r}] has no {key!r} (keys: {sorted(entry)})")
    coefs = entry["coefficients"]
    parents = list(entry.get("parents", [k for k in coefs if k != INTERCEPT]))
    unknown = [k for k in coefs if k != INTERCEPT and k not in parents]
    missing = [p for p in parents if p not in coefs]
    if unknown or missing:
        raise ValueError(f"{where}: node {node!r} has parents {parents} but coefficients for "
                         f"{sorted(coefs)}" + (f"; missing {missing}" if missing else "")
                         + (f"; unexpected {unknown}" if unknown else ""))
    try:
        return GaussianCPD(parents=parents,
                           weights=[_scalar(coefs[p], f"coefficient of {p!r}") for p in parents] or None,
                           bias=_scalar(coefs.get(INTERCEPT, 0.0), "(Intercept)"),
                           variance=_scalar(entry["variance"], "variance"))
    except ValueError as e:
        raise ValueError(f"{where}: node {node!r}: {e}") from None


def read_json(source, name: str | None = None):
    """A linear Gaussian network from pgmpy's JSON format, as a :class:`~probgen.bayesnet.BayesNet`.

    Args:
        source: a path, an open file, a JSON string, or an already parsed dict.
        name: the network's name (default: the file's stem).

    Raises:
        ValueError: a malformed file (the node and the fault are named), e.g. a variance <= 0 or
            coefficients that do not match the node's parents.
    """
    from probgen.bayesnet.model.network import BayesNet

    cpds, name = json_cpds(source, name)
    g = nx.DiGraph(name=name) if name else nx.DiGraph()
    for n, cpd in cpds.items():
        g.add_node(n, cpd=cpd)
    g.add_edges_from((p, n) for n, cpd in cpds.items() for p in cpd.parents)
    return BayesNet(g)


def json_cpds(source, name: str | None = None) -> tuple[dict[str, GaussianCPD], str | None]:
    """The conditionals of a pgmpy JSON network (node -> ``GaussianCPD``, in the file's order) and its
    name; ``source`` as in :func:`read_json`."""
    where = "JSON network"
    try:
        if isinstance(source, Mapping):
            data = source
        elif isinstance(source, bytes | bytearray):
            data = json.loads(source)
        elif isinstance(source, str | os.PathLike) and not str(source).lstrip().startswith("{"):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"no JSON network at {str(path)!r}")
            where, name = str(path), name or path.stem
            data = json.loads(path.read_text())
        elif isinstance(source, str):
            data = json.loads(source)
        else:
            data = json.load(source)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(data, Mapping) or "cpds" not in data:
        raise ValueError(f"{where}: expected an object with 'nodes', 'arcs' and 'cpds'")
    cpds = data["cpds"]
    nodes = list(data.get("nodes", cpds))
    for n in nodes:
        if n not in cpds:
            raise ValueError(f"{where}: node {n!r} has no entry in 'cpds'")
    extra = [n for n in cpds if n not in nodes]
    if extra:
        raise ValueError(f"{where}: cpds for {extra}, which are not in 'nodes'")
    out = {n: _cpd_from_json(n, cpds[n], where) for n in nodes}
    if "arcs" in data:
        arcs = {tuple(a) for a in data["arcs"]}
        declared = {(p, n) for n, c in out.items() for p in c.parents}
        if arcs != declared:
            diff = sorted(arcs ^ declared)[:5]
            raise ValueError(f"{where}: 'arcs' disagree with the cpds' parents, e.g. {diff}")
    return out, name


def _declared_cpds(net) -> dict:
    """node -> conditional, in the order the network was declared (a BayesNet's graph order)."""
    if hasattr(net, "graph"):
        return {n: net.graph.nodes[n]["cpd"] for n in net.graph.nodes}
    return {n: net.cpds[n] for n in net.declared}


def json_dict(net) -> dict:
    """The network (a ``BayesNet`` or ``HybridNetwork``) in pgmpy's JSON layout (nodes in their declared
    order; arcs grouped by parent)."""
    cpds = {}
    declared = _declared_cpds(net)
    for n, cpd in declared.items():
        if not isinstance(cpd, GaussianCPD) or cpd.discrete_parents:
            raise ValueError(f"pgmpy's JSON format holds linear Gaussian networks only; node {n!r} has "
                             f"{'a CLG ' if isinstance(cpd, GaussianCPD) else 'a '}{type(cpd).__name__}")
        coefs = {INTERCEPT: [float(cpd.bias)]}
        for p, w in zip(cpd.continuous_parents, cpd.weights.tolist()):
            coefs[p] = [float(w)]
        cpds[n] = {"coefficients": coefs, "variance": [float(cpd.variance)], "parents": list(cpd.parents)}
    rank = {n: i for i, n in enumerate(declared)}
    arcs = sorted(([p, n] for n, cpd in declared.items() for p in cpd.parents),
                  key=lambda a: (rank[a[0]], rank[a[1]]))
    return {"nodes": list(declared), "arcs": arcs, "cpds": cpds}


def write_json(net, path=None, indent: int | None = 2) -> str:
    """Write the network as pgmpy JSON to ``path`` (if given); return the JSON text."""
    text = json.dumps(json_dict(net), indent=indent)
    if path is not None:
        Path(path).write_text(text + "\n")
    return text


def list_gaussian_networks() -> list[str]:
    """Names accepted by ``load_gaussian_network`` (sorted)."""
    return sorted(p.stem for p in DATA.glob("*.json"))
