import numpy as np
import pytest
import torch

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.model.cpd import ROW_SUM_TOL


def test_root_from_list_is_float64():
    cpd = TabularCPD(["no", "yes"], [0.8, 0.2])
    assert cpd.card == 2 and cpd.parents == [] and cpd.probs.dtype == torch.float64
    assert cpd.probs.tolist() == [0.8, 0.2] and cpd.parent_cards == ()


@pytest.mark.parametrize("form", ["list", "ndarray", "tensor"])
def test_flat_rows_reshape_with_parent_cards(form):
    rows = [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.0, 1.0]]  # (2 * 3, 2), C order
    probs = {"list": rows, "ndarray": np.array(rows), "tensor": torch.tensor(rows, dtype=torch.float64)}[form]
    cpd = TabularCPD(["a", "b"], probs, parents=["P", "Q"], parent_cards=[2, 3])
    assert cpd.probs.shape == (2, 3, 2)
    assert cpd.probs[1, 0].tolist() == [0.3, 0.7]  # first parent slowest: row 3 is (P=1, Q=0)
    assert cpd.parent_cards == (2, 3)


def test_flat_rows_stay_flat_until_the_cards_are_known():
    cpd = TabularCPD(["a", "b"], [[0.9, 0.1]] * 6, parents=["P", "Q"])
    assert cpd.probs.shape == (6, 2) and cpd.parent_cards is None
    assert cpd.with_parent_cards([3, 2]).probs.shape == (3, 2, 2)


def test_full_shape_is_accepted_and_input_not_aliased():
    t = torch.full((2, 2, 3), 1 / 3)
    cpd = TabularCPD([0, 1, 2], t, parents=["A", "B"])
    t[0, 0, 0] = 5.0
    assert cpd.probs.shape == (2, 2, 3) and cpd.probs[0, 0, 0].item() == pytest.approx(1 / 3)


def test_normalize_rescales_rows():
    cpd = TabularCPD(["a", "b"], [[2.0, 2.0], [1.0, 3.0]], parents=["P"], normalize=True)
    assert cpd.probs.tolist() == [[0.5, 0.5], [0.25, 0.75]]


def test_rows_within_tolerance_are_accepted_as_given():
    cpd = TabularCPD(["a", "b"], [0.5, 0.5 + ROW_SUM_TOL / 2])
    assert cpd.probs[1].item() == 0.5 + ROW_SUM_TOL / 2


def test_row_not_summing_to_one_names_tolerance_and_fix():
    with pytest.raises(ValueError, match=r"row \(1,\) of probs sums to 0\.9, not 1 \(tolerance 1e-06\).*"
                                         r"normalize=True"):
        TabularCPD(["off", "on"], [[0.6, 0.4], [0.89, 0.01]], parents=["Rain"])


def test_negative_probability_is_rejected_with_its_index():
    with pytest.raises(ValueError, match=r"non-negative, got -0\.1 at index \(1, 0\)"):
        TabularCPD(["a", "b"], [[0.5, 0.5], [-0.1, 1.1]], parents=["P"], normalize=True)


def test_all_zero_row_cannot_be_normalised():
    with pytest.raises(ValueError, match=r"row \(0,\) is all zeros"):
        TabularCPD(["a", "b"], [[0.0, 0.0], [0.5, 0.5]], parents=["P"], normalize=True)


def test_nan_is_rejected():
    with pytest.raises(ValueError, match="NaN or infinite"):
        TabularCPD(["a", "b"], [float("nan"), 1.0])


def test_duplicate_states_are_named():
    with pytest.raises(ValueError, match=r"duplicate state names \[\"'yes'\"\]"):
        TabularCPD(["yes", "no", "yes"], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("states", [[], "ab", [0.5, 1.5], [True, False]])
def test_bad_states(states):
    with pytest.raises((TypeError, ValueError), match="state"):
        TabularCPD(states, [1.0])


def test_last_axis_must_match_the_states():
    with pytest.raises(ValueError, match=r"shape \(2, 3\), but its last axis must have one entry per state "
                                         r"\(2\)"):
        TabularCPD(["a", "b"], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], parents=["P"])


def test_root_with_a_matrix_says_the_expected_shape():
    with pytest.raises(ValueError, match=r"without parents needs probs of shape \(2,\), got \(1, 2\)"):
        TabularCPD(["a", "b"], [[0.5, 0.5]])


def test_wrong_number_of_rows_says_the_expected_shape():
    cpd = TabularCPD(["dry", "wet"], [[0.5, 0.5]] * 3, parents=["Season"])
    with pytest.raises(ValueError, match=r"CPT of 'Rain' has shape \(3, 2\) but parents \['Season'\] with "
                                         r"cardinalities \[4\] need \(4, 2\)"):
        cpd.with_parent_cards([4], node="Rain")


def test_transposed_table_gets_a_hint():
    # pgmpy's layout: states on rows, parent configurations on columns
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*looks transposed"):
        TabularCPD(["a", "b", "c"], [[0.5, 0.5], [0.25, 0.25], [0.25, 0.25]], parents=["P"])


def test_duplicate_parents_are_rejected():
    with pytest.raises(ValueError, match=r"parent\(s\) \['P'\] listed more than once"):
        TabularCPD(["a"], [[1.0]] * 4, parents=["P", "P"])


def test_point_mass_and_equality_and_repr():
    cpd = TabularCPD(["a", "b", "c"], [0.2, 0.3, 0.5])
    pm = cpd.point_mass("b")
    assert pm.probs.tolist() == [0.0, 1.0, 0.0] and pm.states == cpd.states
    assert cpd == TabularCPD(["a", "b", "c"], [0.2, 0.3, 0.5]) and cpd != pm
    assert "states=['a', 'b', 'c']" in repr(cpd) and "(3,)" in repr(cpd)
