"""pgmpy's Gaussian JSON files for the engine: the same reader as ``probgen.bayesnet.io.gaussian_json``,
returning a ``HybridNetwork`` (the ``io`` layer returns a ``BayesNet``)."""

from __future__ import annotations

from probgen.bayesnet.hybrid.network import HybridNetwork
from probgen.bayesnet.io.gaussian_json import (
    DATA,
    json_cpds,
    json_dict,
    list_gaussian_networks,
    write_json,
)

__all__ = ["DATA", "json_dict", "list_gaussian_networks", "load_gaussian_network", "read_json", "write_json"]


def read_json(source, name: str | None = None) -> HybridNetwork:
    """A linear Gaussian network from pgmpy's JSON format (a path, open file, JSON text or dict)."""
    cpds, name = json_cpds(source, name)
    return HybridNetwork(cpds, name=name)


def load_gaussian_network(name: str) -> HybridNetwork:
    """``"ecoli70"``, ``"magic-niab"``, ``"magic-irri"`` or ``"arth150"`` as a ``HybridNetwork``."""
    if not isinstance(name, str) or not (DATA / f"{name}.json").is_file():
        raise ValueError(f"unknown Gaussian network {name!r}; available: {list_gaussian_networks()}")
    return read_json(DATA / f"{name}.json", name=name)
