"""The state encoder's rule set (probgen.bayesnet.model.encoding), checked through every entry point that
takes states from a user: posterior, map, probability, intervene, likelihood weighting, state_index,
log_prob rows, the Pyro program's data, fit_parameters and the command line. Oracle: the code each entry
point read is recovered from its answer (an observed target's one-hot marginal, a point-mass CPT, a fitted
one-hot table, ...) and compared with the rule's expected index; refused values must raise the same
exception type everywhere."""

import networkx as nx
import numpy as np
import pandas as pd
import pyro
import pytest
import torch

from probgen.bayesnet import BayesNet, StateEncoder, TabularCPD, fit_parameters, write_bif
from probgen.bayesnet.cli import evidence_from_words
from probgen.cli import main


def _net(states) -> BayesNet:
    """X -> Y; X has the given states (distinct marginals), Y the states a, b."""
    g = nx.DiGraph([("X", "Y")])
    k = len(states)
    g.nodes["X"]["cpd"] = TabularCPD(states, [(i + 1) / (k * (k + 1) / 2) for i in range(k)])
    g.nodes["Y"]["cpd"] = TabularCPD(["a", "b"], [[0.9 - 0.3 * i, 0.1 + 0.3 * i] for i in range(k)],
                                     parents=["X"])
    return BayesNet(g)


def _column(value, n: int = 2):
    """``n`` copies of ``value`` as a column: a tensor repeats as a tensor (codes), else a list."""
    return value.reshape(1).repeat(n) if isinstance(value, torch.Tensor) else [value] * n


def _read_posterior(bn, value):
    return int(bn.posterior({"X": value}, ["X"])["X"].argmax())


def _read_map(bn, value):
    logp = bn.map({"X": value}, return_log_prob=True)[1]
    refs = [bn.map({"X": torch.tensor(k)}, return_log_prob=True)[1] for k in range(bn.card("X"))]
    return next(k for k, r in enumerate(refs) if torch.equal(r, logp))


def _read_probability(bn, value):
    p = bn.probability({"X": value})
    return next(k for k in range(bn.card("X")) if torch.equal(bn.probability({"X": torch.tensor(k)}), p))


def _read_intervene(bn, value):
    return int(bn.intervene({"X": value}).cpt("X").argmax())


def _read_weighting(bn, value):
    lw = bn.approximate_posterior({"X": value}, ["X"], num_samples=10)
    return int(lw.marginals["X"].argmax())


def _read_state_index(bn, value):
    return bn.state_index("X", value)


def _read_log_prob(bn, value):
    lp = bn.log_prob({"X": _column(value, 1), "Y": ["a"]})
    refs = [bn.log_prob({"X": torch.tensor([k]), "Y": torch.tensor([0])}) for k in range(bn.card("X"))]
    return next(k for k, r in enumerate(refs) if torch.equal(r, lp))


def _read_program(bn, value):
    tr = pyro.poutine.trace(bn.model).get_trace(data={"X": _column(value, 1)})
    return int(tr.nodes["X"]["value"][0])


def _read_fit(bn, value):
    learned = fit_parameters(bn, {"X": _column(value), "Y": ["a", "b"]})
    return int(learned.cpt("X").argmax())


def _read_evidence_column(bn, value):
    post = bn.posterior({"X": _column(value), "Y": torch.tensor([0, -1])}, ["X"])["X"]  # (2, card)
    assert torch.equal(post[0], post[1])
    return int(post[0].argmax())


READERS = [_read_posterior, _read_map, _read_probability, _read_intervene, _read_weighting,
           _read_state_index, _read_log_prob, _read_program, _read_fit, _read_evidence_column]

ACCEPTED = [  # (states, value, index the rules give)
    (["0", "1"], "1", 1), (["0", "1"], 1, 1), (["0", "1"], np.int64(1), 1), (["0", "1"], torch.tensor(1), 1),
    ([0, 1], "1", 1), ([0, 1], 1, 1), ([0, 1], np.int64(1), 1), ([0, 1], 0, 0),
    ([1, 2], 1, 0), ([1, 2], "1", 0), ([1, 2], 2, 1), ([1, 2], np.int32(2), 1),  # names first
    ([1, 2], 0, 0), ([1, 2], "0", 0),  # not a name: an index
    ([1, 2], torch.tensor(1), 1),  # a tensor holds codes, never names
    (["no", "yes"], "yes", 1), (["no", "yes"], np.str_("yes"), 1), (["no", "yes"], 0, 0),
    (["no", "yes"], "1", 1),  # digit text that names no state: an index
]
REFUSED = [  # (states, value, exception)
    (["0", "1"], True, TypeError), ([0, 1], False, TypeError), ([0, 1], np.True_, TypeError),
    (["no", "yes"], torch.tensor(True), TypeError), ([0, 1], 1.0, TypeError), (["no", "yes"], 0.5, TypeError),
    (["no", "yes"], "maybe", ValueError), (["no", "yes"], 2, ValueError), (["no", "yes"], "2", ValueError),
    ([1, 2], 3, ValueError), (["0", "1"], "-1", ValueError),
]


@pytest.mark.parametrize("read", READERS, ids=lambda f: f.__name__[6:])
@pytest.mark.parametrize("states, value, index", ACCEPTED)
def test_every_entry_point_reads_a_value_the_same_way(read, states, value, index):
    assert read(_net(states), value) == index


@pytest.mark.parametrize("read", READERS, ids=lambda f: f.__name__[6:])
@pytest.mark.parametrize("states, value, error", REFUSED)
def test_every_entry_point_refuses_a_value_the_same_way(read, states, value, error):
    with pytest.raises(error, match=r"'X'"):
        read(_net(states), value)


@pytest.mark.parametrize("states, value, index", [a for a in ACCEPTED if type(a[1]) in (str, int)])
def test_the_command_line_reads_words_by_the_same_rules(states, value, index, tmp_path, capsys):
    bn = _net(states)
    assert _read_posterior(bn, evidence_from_words(bn, [f"X={value}"])["X"]) == index
    path = write_bif(bn, tmp_path / "net.bif")  # BIF stores states as text: the same rules apply
    assert main(["bn", "query", str(path), "-e", f"X={value}", "-t", "X"]) == 0
    probs = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines() if line.startswith("X ")]
    assert probs.index(1.0) == index


def test_minus_one_is_refused_as_a_state_but_marks_unobserved_rows_of_evidence():
    bn = _net(["0", "1"])
    for read in READERS:
        if read is not _read_evidence_column:
            with pytest.raises(ValueError, match=r"'X': state index -1 is out of range"):
                read(bn, -1)
    post = bn.posterior({"X": [-1, "1"]}, ["X"])["X"]  # (2, 2): row 0 unobserved
    torch.testing.assert_close(post[0], bn.cpt("X"))
    assert post[1].tolist() == [0.0, 1.0]


def test_the_command_line_refuses_what_the_api_refuses(tmp_path, capsys):
    path = write_bif(_net(["no", "yes"]), tmp_path / "net.bif")
    for word, message in [("X=maybe", "unknown state 'maybe'"), ("X=2", "state index 2 is out of range"),
                          ("X=True", "unknown state 'True'")]:  # on the command line True is text
        assert main(["bn", "query", str(path), "-e", word]) == 2
        assert message in capsys.readouterr().err


def test_errors_name_the_node_echo_the_value_and_list_the_states():
    bn = _net(["no", "yes"])
    msg = r"evidence on 'X': unknown state 'maybe'; its states are \['no', 'yes'\] \(or an index 0..1\)"
    for call in (lambda: bn.posterior({"X": "maybe"}), lambda: bn.map({"X": "maybe"}),
                 lambda: bn.probability({"X": "maybe"}), lambda: bn.approximate_posterior({"X": "maybe"})):
        with pytest.raises(ValueError, match=msg):
            call()
    with pytest.raises(ValueError, match=r"intervention on 'X': unknown state 'maybe'; its states are"):
        bn.intervene({"X": "maybe"})
    with pytest.raises(TypeError, match=r"evidence on 'X': True is a boolean.*\['no', 'yes'\]"):
        bn.posterior({"X": True})
    with pytest.raises(ValueError, match=r"data column 'X': unknown state 'maybe'.* \(row 2\)"):
        fit_parameters(bn, {"X": ["no", "yes", "maybe"], "Y": ["a", "a", "b"]})


# ------------------------------------------------------------------------------------------ columns
def test_columns_are_encoded_by_their_distinct_values_like_single_values():
    enc = StateEncoder({"X": [1, 2, "c"]})
    values = [2, "1", "c", 0, np.int64(1), "2", 2]
    expect = [enc.code("X", v) for v in values]
    assert expect == [1, 0, 2, 0, 0, 1, 1]
    assert enc.column("X", values).tolist() == expect
    assert enc.column("X", np.array([2, 1, 0, 2])).tolist() == [1, 0, 0, 1]
    assert enc.column("X", pd.Series(values, dtype=object)).tolist() == expect
    text = ["c", "1", "2", "c"]
    assert enc.column("X", np.array(text)).tolist() == [2, 0, 1, 2]
    assert enc.column("X", pd.Series(text, dtype="category")).tolist() == [2, 0, 1, 2]
    assert enc.column("X", pd.Series(text, dtype="string")).tolist() == [2, 0, 1, 2]


def test_integer_columns_that_are_their_own_codes_take_the_fast_path():
    enc = StateEncoder({"X": ["a", "b", "c"]})
    codes = np.random.default_rng(0).integers(0, 3, 10_000)
    assert enc.column("X", codes).tolist() == codes.tolist()
    assert enc.column("X", pd.Series(codes)).tolist() == codes.tolist()
    with pytest.raises(ValueError, match=r"column 'X': state index 3 is out of range.*\(row 1\)"):
        enc.column("X", np.array([0, 3]))


def test_missing_entries_are_unobserved_in_evidence_and_refused_elsewhere():
    enc = StateEncoder({"X": ["no", "yes"]})
    assert enc.column("X", ["yes", None, -1, "no"], missing=True).tolist() == [1, -1, -1, 0]
    assert enc.column("X", pd.Series(["yes", None, float("nan")]), missing=True).tolist() == [1, -1, -1]
    assert enc.column("X", pd.Series([1, None], dtype="Int64"), missing=True).tolist() == [1, -1]
    assert enc.column("X", pd.Series(["yes", None], dtype="category"), missing=True).tolist() == [1, -1]
    with pytest.raises(ValueError, match=r"'X' has missing values"):
        enc.column("X", ["yes", None])
    bn = _net(["no", "yes"])
    post = bn.posterior({"X": ["yes", None]}, ["Y"])["Y"]  # (2, 2): the second row is the prior
    torch.testing.assert_close(post[1], bn.posterior(None, ["Y"])["Y"])
    with pytest.raises(ValueError, match="missing values"):
        fit_parameters(bn, pd.DataFrame({"X": ["no", None], "Y": ["a", "b"]}))


@pytest.mark.parametrize("column, error", [
    (np.array([True, False]), TypeError), (pd.Series([True, False]), TypeError),
    (torch.tensor([True, False]), TypeError), ([True, 1], TypeError), (np.array([0.0, 1.0]), TypeError),
    (np.array([0.0, np.nan]), TypeError), (torch.tensor([0.0, 1.0]), TypeError),
    (np.array([[0], [1]]), ValueError), ([[0], [1]], TypeError), ({"no": 0}, TypeError),
])
def test_bad_columns_are_refused_everywhere(column, error):
    bn = _net(["no", "yes"])
    for call in (lambda: bn.posterior({"X": column}), lambda: bn.log_prob({"X": column, "Y": [0, 0]}),
                 lambda: fit_parameters(bn, {"X": column, "Y": [0, 0]})):
        with pytest.raises(error, match="'X'"):
            call()


def test_text_is_one_value_not_a_column():
    bn = _net(["no", "yes"])
    assert _read_posterior(bn, "yes") == 1  # evidence: one state
    rows = {"X": "no", "Y": "a"}
    for call in (lambda: bn.log_prob(rows), lambda: fit_parameters(bn, rows)):
        with pytest.raises(TypeError, match=r"'X': a column must be a list, array, pandas Series or tensor"):
            call()


def test_learning_reads_states_off_the_data_when_none_are_given():
    learned = fit_parameters(nx.DiGraph([("X", "Y")]), pd.DataFrame(
        {"X": pd.Series(["b", "a", "b"], dtype="category"), "Y": [2, 0, 2]}))
    assert learned.states("X") == ["a", "b"] and learned.states("Y") == [0, 2]
    assert learned.cpt("Y")[1].tolist() == [0.0, 1.0]  # X = b: always Y = 2
    with pytest.raises(TypeError, match=r"data column 'X': True is a boolean"):
        fit_parameters(nx.DiGraph([("X", "Y")]), {"X": [True, False], "Y": [0, 1]})


def test_state_names_must_differ_as_text():
    with pytest.raises(ValueError, match=r"unique, also as text"):
        TabularCPD([1, "1"], [0.5, 0.5])


def test_columns_encode_the_same_without_pandas_loaded():
    import subprocess
    import sys

    code = ("import sys; from probgen.bayesnet.model.encoding import StateEncoder; "
            "e = StateEncoder({'X': [1, 2, 'c']}); "
            "print(e.column('X', [2, '1', 'c', 0]).tolist(), e.column('X', ['c', '2']).tolist(), "
            "e.column('X', [2, 2**70 - 2**70]).tolist(), 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1, 0, 2, 0] [2, 1] [1, 0] False"


def test_ints_beyond_int64_are_read_one_by_one():
    enc = StateEncoder({"X": ["a", "b"]})
    with pytest.raises(ValueError, match=r"state index 1180591620717411303424 is out of range"):
        enc.column("X", [0, 2**70])


def test_importing_the_package_and_its_cli_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys, probgen.bayesnet, probgen.bayesnet.cli; "
            "print(sorted(m for m in ('torch', 'pyro', 'networkx', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
