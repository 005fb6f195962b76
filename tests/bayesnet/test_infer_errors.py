"""Bad queries give ValueError/TypeError naming the node, the state or the row, and saying the fix."""

import numpy as np
import pytest
import torch
from bn_helpers import five_node, sprinkler

from probgen.bayesnet.approx import weighting
from probgen.bayesnet.exact import queries


@pytest.fixture
def bn():
    return sprinkler()


@pytest.mark.parametrize(
    "fn",
    [
        queries.posterior,
        queries.probability,
        queries.log_probability,
        queries.map_assignment,
        weighting.likelihood_weighting,
    ],
)
def test_unknown_node_is_named_with_close_matches(bn, fn):
    with pytest.raises(ValueError, match=r"evidence on unknown node 'Wett'; did you mean 'Wet'"):
        fn(bn, {"Wett": "wet"})
    with pytest.raises(ValueError, match=r"unknown node 'Zzz'; the network's nodes are \['Rain'"):
        fn(bn, {"Zzz": 0})


def test_unknown_state_lists_the_states(bn):
    with pytest.raises(
        ValueError, match=r"evidence on 'Wet': unknown state 'damp'; its states are \['dry', 'wet'\]"
    ):
        queries.posterior(bn, {"Wet": "damp"})
    with pytest.raises(ValueError, match=r"'Wet': unknown state 'damp'"):
        queries.posterior(bn, {"Wet": ["wet", "damp"]})


def test_state_index_out_of_range(bn):
    with pytest.raises(
        ValueError, match=r"evidence on 'Wet': state index 2 is out of range; it has 2 states"
    ):
        queries.posterior(bn, {"Wet": 2})
    with pytest.raises(ValueError, match=r"evidence on 'Wet': row 1 has state index 5, outside 0..1"):
        queries.posterior(bn, {"Wet": torch.tensor([0, 5])})
    with pytest.raises(ValueError, match=r"row 0 has state index -2"):
        queries.probability(bn, {"Wet": torch.tensor([-2, 0])})


def test_tensors_of_different_lengths_name_every_length(bn):
    with pytest.raises(ValueError, match=r"different lengths \('Rain': 3, 'Wet': 2\)"):
        queries.posterior(bn, {"Wet": torch.tensor([0, 1]), "Rain": torch.tensor([0, 1, 1])})


def test_wrong_tensor_types_and_shapes(bn):
    with pytest.raises(TypeError, match=r"'Wet': a tensor of dtype torch.float32; give int64 state indices"):
        queries.posterior(bn, {"Wet": torch.tensor([0.0, 1.0])})
    with pytest.raises(TypeError, match=r"'Wet': an array of dtype float64"):
        queries.posterior(bn, {"Wet": np.array([0.0, 1.0])})
    with pytest.raises(ValueError, match=r"'Wet': a tensor of shape \(2, 1\); give one value per row"):
        queries.posterior(bn, {"Wet": torch.tensor([[0], [1]])})
    with pytest.raises(TypeError, match=r"`evidence` must be a dict node -> state, got list"):
        queries.posterior(bn, [("Wet", 1)])
    with pytest.raises(TypeError, match=r"`dtype`=torch.float16"):
        queries.posterior(bn, {"Wet": 1}, dtype=torch.float16)


def test_numpy_columns_are_accepted(bn):
    a = queries.posterior(bn, {"Wet": np.array([1, 0])})
    b = queries.posterior(bn, {"Wet": torch.tensor([1, 0])})
    torch.testing.assert_close(a["Rain"], b["Rain"])


def test_contradictory_evidence_says_so_instead_of_nan():
    bn = sprinkler()  # Wet is surely dry when it neither rained nor sprinkled
    ev = {"Rain": "no", "Sprinkler": "off", "Wet": "wet"}
    msg = r"evidence \{'Rain': 'no', 'Sprinkler': 'off', 'Wet': 'wet'\} has probability zero"
    with pytest.raises(ValueError, match=msg):
        queries.posterior(bn, ev)
    with pytest.raises(ValueError, match="probability zero"):
        queries.map_assignment(bn, ev)
    assert queries.probability(bn, ev).item() == 0.0  # P(e) itself is a fine answer
    assert queries.log_probability(bn, ev).item() == float("-inf")
    rows = {
        "Rain": torch.tensor([1, 0, 0]),
        "Sprinkler": torch.tensor([0, 0, 0]),
        "Wet": torch.tensor([1, 0, 1]),
    }
    with pytest.raises(
        ValueError,
        match=r"in 1 row\(s\), first row 2: \{'Rain': 'no', 'Sprinkler': 'off', 'Wet': "
        r"'wet'\}; drop those rows",
    ):
        queries.posterior(bn, rows)
    with pytest.raises(ValueError, match=r"first row 2"):
        queries.map_assignment(bn, rows)
    with pytest.raises(ValueError, match=r"every one of 100 samples has weight zero"):
        weighting.likelihood_weighting(bn, ev, num_samples=100)


def test_bad_targets(bn):
    with pytest.raises(ValueError, match=r"query on unknown node 'Rian'; did you mean 'Rain'"):
        queries.posterior(bn, {"Wet": 1}, targets=["Rian"])
    with pytest.raises(ValueError, match=r"`targets` lists a node twice"):
        queries.posterior(bn, {"Wet": 1}, targets=["Rain", "Rain"])


def test_bad_device_and_sample_count(bn):
    with pytest.raises(ValueError, match=r"`device`='tpu'"):
        queries.posterior(bn, {"Wet": 1}, device="tpu")
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match=r"`num_samples` must be an int >= 1"):
            weighting.likelihood_weighting(bn, {"Wet": 1}, num_samples=bad)


def test_int_state_names_win_over_indices():
    bn = five_node()  # X1's states are the ints [0, 1]; X3's are names
    a = queries.posterior(bn, {"X3": 2})  # an index
    b = queries.posterior(bn, {"X3": "c"})
    torch.testing.assert_close(a["X5"], b["X5"])
