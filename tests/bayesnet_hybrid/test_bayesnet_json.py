"""Gaussian networks through the user-facing API: ``load_network("ecoli70")`` and friends,
``read_json``/``write_json`` round trips of all four as ``BayesNet``, malformed files naming the node."""

import json

import networkx as nx
import pytest
import torch
from test_hybrid_json import SIZES, _broken, _mini

from probgen.bayesnet import (
    BayesNet,
    GaussianCPD,
    HybridBayesNet,
    TabularCPD,
    list_networks,
    load_network,
    read_json,
    write_json,
)
from probgen.bayesnet.io.gaussian_json import DATA, json_dict

NAMES = ["arth150", "ecoli70", "magic-irri", "magic-niab"]


def test_load_network_finds_the_gaussian_networks():
    assert set(NAMES) <= set(list_networks()) and {"asia", "alarm"} <= set(list_networks())
    with pytest.raises(ValueError, match="unknown network 'ecoli'.*ecoli70"):
        load_network("ecoli")
    assert type(load_network("asia")) is BayesNet  # discrete files unchanged


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_of_the_four_networks(name, tmp_path):
    bn = load_network(name)
    assert isinstance(bn, HybridBayesNet) and bn.family == "gaussian"
    assert (len(bn.nodes), len(bn.edges)) == SIZES[name] and repr(bn).startswith(f"BayesNet({name!r}")
    original = json.loads((DATA / f"{name}.json").read_text())
    assert json_dict(bn) == original  # nodes, arcs in order, coefficients and variances
    path = tmp_path / f"{name}.json"
    write_json(bn, path)
    again = read_json(path)
    assert again.equals(bn) and again.graph.graph["name"] == name
    assert read_json(write_json(bn)).equals(bn)  # from the text too
    ev = {bn.nodes[-1]: 0.3}
    assert torch.equal(again.posterior(ev)[bn.nodes[0]].mean, bn.posterior(ev)[bn.nodes[0]].mean)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["cpds"]["b"].update(variance=[0.0]), r"node 'b'.*variance.*> 0"),
    (lambda d: d["cpds"]["b"]["coefficients"].update(c=[1.0]), r"node 'b' has parents.*unexpected \['c'\]"),
    (lambda d: d["cpds"]["b"]["coefficients"].update(a=["x"]),
     r"node 'b'.*coefficient of 'a' must be a number"),
])
def test_bad_files_name_the_node(edit, match, tmp_path):
    assert read_json(_mini()).cpd("b").weights.tolist() == [3.0]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(edit)))
    with pytest.raises(ValueError, match=match):
        read_json(path)


def test_not_json_and_not_gaussian():
    with pytest.raises(ValueError, match="not valid JSON"):
        read_json('{"nodes": [')
    g = nx.DiGraph([("d", "x")])
    g.nodes["d"]["cpd"] = TabularCPD(["a", "b"], [0.5, 0.5])
    g.nodes["x"]["cpd"] = GaussianCPD(["d"], bias=[0.0, 1.0])
    with pytest.raises(ValueError, match="linear Gaussian networks only; node 'd' has a TabularCPD"):
        write_json(BayesNet(g))
