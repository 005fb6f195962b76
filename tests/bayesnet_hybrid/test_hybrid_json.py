"""pgmpy's Gaussian JSON format: the four shipped networks round-trip exactly, agree with pgmpy's own
reader, and malformed files give errors naming the node."""

import copy
import json

import networkx as nx
import numpy as np
import pytest

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid import (
    GaussianCPD,
    HybridNetwork,
    joint_gaussian,
    json_dict,
    list_gaussian_networks,
    load_gaussian_network,
    read_json,
    write_json,
)
from probgen.bayesnet.hybrid.jsonio import DATA

NAMES = ["arth150", "ecoli70", "magic-irri", "magic-niab"]
SIZES = {"ecoli70": (46, 70), "magic-niab": (44, 66), "magic-irri": (64, 102), "arth150": (107, 150)}


def test_the_four_networks_are_shipped():
    assert list_gaussian_networks() == NAMES
    with pytest.raises(ValueError, match="unknown Gaussian network 'ecoli'.*ecoli70"):
        load_gaussian_network("ecoli")


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name, tmp_path):
    net = load_gaussian_network(name)
    assert (len(net.nodes), len(net.edges)) == SIZES[name] and net.family == "gaussian"
    original = json.loads((DATA / f"{name}.json").read_text())
    assert json_dict(net) == original  # same nodes, arcs (in order), coefficients and variances
    path = tmp_path / f"{name}.json"
    write_json(net, path)
    again = read_json(path)
    assert again.nodes == net.nodes and again.declared == net.declared
    assert all(again.cpds[n] == net.cpds[n] for n in net.nodes)
    assert read_json(write_json(net)).nodes == net.nodes  # from the JSON text too


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_pgmpy(name):
    """pgmpy 1.1.2 reads the same file; its joint Gaussian (rounded by pgmpy to 8 decimals) equals ours."""
    pgmpy_models = pytest.importorskip("pgmpy.models")
    model = pgmpy_models.LinearGaussianBayesianNetwork.load(str(DATA / f"{name}.json"))
    mean, cov = model.to_joint_gaussian()
    order = list(nx.topological_sort(model))
    lg = joint_gaussian(load_gaussian_network(name))
    ix = [lg.nodes.index(n) for n in order]
    assert np.allclose(lg.mean().numpy()[ix], mean, atol=1e-7, rtol=0)
    assert np.allclose(lg.covariance().numpy()[np.ix_(ix, ix)], cov, atol=1e-7, rtol=0)


def _mini():
    return {"nodes": ["a", "b"], "arcs": [["a", "b"]],
            "cpds": {"a": {"coefficients": {"(Intercept)": [1.0]}, "variance": [2.0], "parents": []},
                     "b": {"coefficients": {"(Intercept)": [0.5], "a": [3.0]}, "variance": [1.0],
                           "parents": ["a"]}}}


def _broken(edit):
    data = copy.deepcopy(_mini())
    edit(data)
    return data


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["cpds"]["b"].update(variance=[-1.0]), "node 'b'.*variance.*> 0"),
    (lambda d: d["cpds"]["b"]["coefficients"].pop("a"), r"node 'b' has parents \['a'\].*missing \['a'\]"),
    (lambda d: d["cpds"]["b"]["coefficients"].update(c=[1.0]), r"unexpected \['c'\]"),
    (lambda d: d["arcs"].append(["b", "a"]), "'arcs' disagree"),
    (lambda d: d["nodes"].append("c"), "node 'c' has no entry in 'cpds'"),
    (lambda d: d["cpds"]["a"].pop("variance"), "cpds\\['a'\\] has no 'variance'"),
    (lambda d: d["cpds"]["a"].update(variance=[1.0, 2.0]), "variance must be one number"),
])
def test_bad_files_name_the_node(edit, match):
    assert read_json(_mini()).cpds["b"].weights.tolist() == [3.0]
    with pytest.raises(ValueError, match=match):
        read_json(_broken(edit))


def test_only_linear_gaussian_networks_are_written():
    net = HybridNetwork({"d": TabularCPD(["a", "b"], [0.5, 0.5]), "x": GaussianCPD(["d"], bias=[0.0, 1.0])})
    with pytest.raises(ValueError, match="linear Gaussian networks only; node 'd' has a TabularCPD"):
        write_json(net)
