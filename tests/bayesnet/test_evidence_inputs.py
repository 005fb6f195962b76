"""Evidence in the forms people have it: pandas Series, NumPy arrays and lists as per-row columns, a
DataFrame of per-row evidence, a Series as one row; and every other input to a query entry point either
accepted or refused with a ValueError/TypeError that names it (never an exception from pandas or torch).

Oracle: the same query with the evidence given as a dict of int64 tensors."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from bn_helpers import sprinkler

from probgen.bayesnet.approx import weighting
from probgen.bayesnet.exact import queries
from probgen.bayesnet.exact.evidence import num_rows

WET = ["wet", "dry", "wet", None]  # states of Wet; the last row leaves Wet unobserved
RAIN = ["yes", "yes", None, "no"]
CODES = {"Wet": torch.tensor([1, 0, 1, -1]), "Rain": torch.tensor([1, 1, -1, 0])}


@pytest.fixture
def bn():
    return sprinkler()


def _lw(bn, evidence, **kw):
    return weighting.likelihood_weighting(bn, evidence, num_samples=200,
                                          generator=torch.Generator().manual_seed(0), **kw).marginals


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


QUERIES = [queries.posterior, queries.log_probability, queries.map_assignment, _lw]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("form", ["series", "series with an index", "array", "list", "dataframe"])
def test_columns_in_every_form_are_per_row_evidence(bn, query, form):
    if form == "series":
        evidence = {"Wet": pd.Series(WET), "Rain": pd.Series(RAIN)}
    elif form == "series with an index":  # read by position: the index is not used
        evidence = {"Wet": pd.Series(WET, index=[9, 3, 5, 1]), "Rain": pd.Series(RAIN, index=[1, 2, 3, 4])}
    elif form == "array":
        evidence = {"Wet": np.array(WET, dtype=object), "Rain": np.array(RAIN, dtype=object)}
    elif form == "list":
        evidence = {"Wet": WET, "Rain": RAIN}
    else:
        evidence = pd.DataFrame({"Wet": WET, "Rain": RAIN})
    assert num_rows(evidence) == 4
    assert _same(query(bn, evidence), query(bn, CODES))


@pytest.mark.parametrize("query", QUERIES)
def test_a_series_is_one_row_indexed_by_node(bn, query):
    frame = pd.DataFrame({"Wet": WET, "Rain": RAIN})
    assert num_rows(frame.iloc[3]) == 1
    assert _same(query(bn, frame.iloc[0]), query(bn, {"Wet": "wet", "Rain": "yes"}))
    assert _same(query(bn, frame.iloc[3]), query(bn, {"Rain": "no"}))  # None: not observed


def test_a_zero_d_array_is_its_value(bn):
    assert _same(queries.posterior(bn, {"Wet": np.array("wet")}), queries.posterior(bn, {"Wet": "wet"}))
    assert _same(queries.posterior(bn, {"Wet": np.array(1)}), queries.posterior(bn, {"Wet": 1}))


BAD_EVIDENCE = [
    (pd.DataFrame({"Wett": ["wet"]}), ValueError, r"evidence on unknown node 'Wett'; did you mean 'Wet'"),
    (pd.Series({"Wet": "damp"}), ValueError, r"evidence on 'Wet': unknown state 'damp'"),
    (pd.DataFrame({"Wet": [True, False]}), TypeError, r"evidence on 'Wet': a column of booleans"),
    ({"Wet": pd.Series([0.0, math.nan])}, TypeError, r"evidence on 'Wet': an array of dtype float64 with "
     r"missing values"),
    ({"Wet": pd.Series(["wet"]), "Rain": ["no", "yes"]}, ValueError,
     r"different lengths \('Rain': 2, 'Wet': 1"),
    ({"Wet": np.zeros((2, 2), dtype=np.int64)}, ValueError, r"evidence on 'Wet': an array of shape \(2, 2\)"),
    ({"Wet": {"wet"}}, TypeError, r"evidence on 'Wet': a column must be a list, .* got set"),  # no order
    ({"Wet": {"a": 1}}, TypeError, r"evidence on 'Wet': a column must be a list, array, pandas Series"),
    ({"Wet": [["wet"]]}, TypeError, r"evidence on 'Wet': row 0 holds \['wet'\] \(list\)"),
    ({"Wet": pd.Series([pd.Series([1])])}, TypeError, r"evidence on 'Wet': row 0 holds"),
    ({"Wet": torch.tensor([0.5])}, TypeError, r"evidence on 'Wet': a tensor of dtype torch.float32"),
    ({"Wet": None}, TypeError, r"evidence on 'Wet': None is of type NoneType, not a state"),
    ({("Wet",): "wet"}, ValueError, r"evidence on unknown node \('Wet',\); the network's nodes are"),
    ([("Wet", "wet")], TypeError, r"`evidence` must be a dict node -> state, got list"),
    ("Wet=wet", TypeError, r"`evidence` must be a dict node -> state, got str"),
    (dict, TypeError, r"`evidence` must be a dict node -> state, got type"),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("evidence, error, match", BAD_EVIDENCE)
def test_bad_evidence_is_named(bn, query, evidence, error, match):
    assert num_rows(evidence) >= 1  # never raises: the query's own check reports it
    with pytest.raises(error, match=match):
        query(bn, evidence)


@pytest.mark.parametrize("query", [queries.posterior, queries.map_assignment, weighting.likelihood_weighting])
@pytest.mark.parametrize("kw, error, match", [
    ({"dtype": torch.int64}, TypeError, r"`dtype`=torch.int64: use torch.float64 or torch.float32"),
    ({"dtype": "float64"}, TypeError, r"`dtype`='float64': use torch.float64"),
    ({"device": "tpu"}, ValueError, r"`device`='tpu' is not a device"),
])
def test_bad_keywords_are_named(bn, query, kw, error, match):
    with pytest.raises(error, match=match):
        query(bn, {"Wet": "wet"}, **kw)


@pytest.mark.parametrize("generator", [3, "seed", np.random.default_rng(0)])
def test_a_generator_must_be_a_torch_generator(bn, generator):
    with pytest.raises(TypeError, match=r"`generator` must be a torch.Generator or None, got"):
        weighting.likelihood_weighting(bn, {"Wet": "wet"}, generator=generator)
    with pytest.raises(TypeError, match=r"`generator` must be a torch.Generator or None, got"):
        bn.sample(3, generator=generator)


def test_bad_targets_are_named(bn):
    with pytest.raises(ValueError, match=r"query on unknown node tensor\(1\)"):
        queries.posterior(bn, {}, torch.tensor([1]))
    with pytest.raises(ValueError, match=r"query on unknown node \['Wet'\]; did you mean 'Wet'"):
        queries.posterior(bn, {}, [["Wet"]])
    assert list(queries.posterior(bn, {}, pd.Series(["Wet", "Rain"]))) == ["Wet", "Rain"]
    assert list(queries.posterior(bn, {}, np.array(["Wet"]))) == ["Wet"]


def test_an_impossible_number_of_samples_is_refused_before_allocating(bn):
    with pytest.raises(ValueError, match=r"`num_samples`=10000000000000 needs about .* TiB of memory"):
        bn.sample(10**13)


@pytest.mark.parametrize("xs, error, match", [
    ([["Rain"]], ValueError, r"unknown node \['Rain'\]; did you mean 'Rain'"),
    (None, TypeError, r"`xs` must be a node name or a list of them, got None"),
    (3, TypeError, r"`xs` must be a node name or a list of them, got 3"),
])
def test_d_separation_names_bad_node_sets(bn, xs, error, match):
    with pytest.raises(error, match=match):
        bn.is_d_separated(xs, "Wet")
    assert bn.is_d_separated(("Sprinkler",), ["Rain"], given=iter(["Wet"])) is False
