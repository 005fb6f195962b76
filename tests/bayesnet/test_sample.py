"""Forward sampling and log_prob. Oracles: the joint table by explicit products of CPT entries
(bn_helpers.joint) and the CPTs themselves; tolerances are 5 binomial standard deviations."""

import itertools

import pandas as pd
import pytest
import torch
from bn_helpers import five_node, joint, marginals, sprinkler

import probgen
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.model import sampling


def _check_freqs(freq: torch.Tensor, p: torch.Tensor, n: int, slack: float = 0.0):
    tol = 5 * (p * (1 - p) / n).clamp(min=0).sqrt() + 1e-12 + slack  # 5 sigma per cell
    assert ((freq - p).abs() <= tol).all(), f"max deviation {(freq - p).abs().max():.3g}"


def _joint_freq(bn, s, n):
    flat = torch.zeros(n, dtype=torch.int64)
    for node in bn.nodes:
        flat = flat * bn.card(node) + s[node]
    return torch.bincount(flat, minlength=joint(bn).numel()).double().reshape(joint(bn).shape) / n


@pytest.mark.parametrize("buckets", [1, 4, 256])
def test_joint_frequencies_of_the_five_node_network(buckets, monkeypatch):
    monkeypatch.setattr(sampling, "_BUCKETS", buckets)  # 1: every draw is refined; 256: almost none
    bn = five_node()
    n = 200_000
    s = bn.sample(n)
    assert set(s) == set(bn.nodes) and all(v.shape == (n,) and v.dtype == torch.int64 for v in s.values())
    _check_freqs(_joint_freq(bn, s, n), joint(bn), n)


def test_marginals_of_asia_and_deterministic_either():
    asia = load_network("asia")
    n = 200_000
    s = asia.sample(n)
    exact = marginals(asia)
    for node in asia.nodes:
        freq = torch.bincount(s[node], minlength=2).double() / n
        _check_freqs(freq, exact[node], n)
    yes = 0
    assert torch.equal(s["either"] == yes, (s["lung"] == yes) | (s["tub"] == yes))  # either = lung OR tub


def test_conditional_frequencies_of_every_alarm_table():
    alarm = load_network("alarm")
    n = 100_000
    s = alarm.sample(n)
    for node in alarm.nodes:
        parents, cpt = alarm.parents(node), alarm.cpt(node)
        flat = torch.zeros(n, dtype=torch.int64)
        for p in parents:
            flat = flat * alarm.card(p) + s[p]
        table = cpt.reshape(-1, alarm.card(node))
        counts = torch.zeros_like(table).index_put_((flat, s[node]), torch.ones(n, dtype=torch.float64),
                                                    accumulate=True)
        assert (counts[table == 0] == 0).all(), f"{node}: a zero-probability state was sampled"
        rows = counts.sum(-1)
        for r in (rows >= 2000).nonzero().flatten().tolist():
            _check_freqs(counts[r] / rows[r], table[r], int(rows[r]))


def test_zero_probability_states_are_never_drawn():
    g = sprinkler().graph
    bn = probgen.bayesnet.BayesNet(g)
    s = bn.sample(50_000)
    dry_given_no_rain_no_sprinkler = (s["Rain"] == 0) & (s["Sprinkler"] == 0)
    assert (s["Wet"][dry_given_no_rain_no_sprinkler] == 0).all()  # P(wet | no, off) = 0


def test_seeding_and_generators_repeat_draws():
    bn = five_node()
    probgen.seed(3)
    a = bn.sample(1000)
    probgen.seed(3)
    b = bn.sample(1000)
    c = bn.sample(1000, generator=torch.Generator().manual_seed(7))
    d = bn.sample(1000, generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(a[k], b[k]) and torch.equal(c[k], d[k]) for k in bn.nodes)
    assert not all(torch.equal(a[k], c[k]) for k in bn.nodes)
    assert all(v.shape == (0,) for v in bn.sample(0).values())
    with pytest.raises(ValueError, match="`num_samples` must be an int >= 0, got -1"):
        bn.sample(-1)


def test_log_prob_is_the_product_of_cpt_entries():
    bn = five_node()
    table = joint(bn)
    rows = list(itertools.product(*(range(bn.card(n)) for n in bn.nodes)))
    data = {n: torch.tensor([r[i] for r in rows]) for i, n in enumerate(bn.nodes)}
    lp = bn.log_prob(data)
    assert lp.shape == (len(rows),) and lp.dtype == torch.float64
    assert torch.allclose(lp, table.reshape(-1).log(), rtol=1e-12, atol=0)
    assert torch.isclose(lp.exp().sum(), torch.tensor(1.0, dtype=torch.float64))


def test_log_prob_accepts_names_and_dataframes_and_gives_minus_inf_for_impossible_rows():
    bn = sprinkler()
    rows = {"Rain": ["no", "yes", "no"], "Sprinkler": ["off", "on", "off"], "Wet": ["dry", "wet", "wet"]}
    expected = torch.tensor([0.8 * 0.6 * 1.0, 0.2 * 0.01 * 0.99, 0.8 * 0.6 * 0.0], dtype=torch.float64).log()
    assert torch.allclose(bn.log_prob(rows), expected)
    assert torch.allclose(bn.log_prob(pd.DataFrame(rows)), expected)
    assert bn.log_prob(rows)[2] == float("-inf")


@pytest.mark.parametrize("rows, error, match", [
    ({"Rain": [0], "Sprinkler": [0]}, ValueError, r"missing \['Wet'\]"),
    ({"Rain": [0], "Sprinkler": [0], "Wet": [0], "Snow": [0]}, ValueError, "unknown node 'Snow'"),
    ({"Rain": [0, 1], "Sprinkler": [0], "Wet": [0]}, ValueError, "'Rain' has 2 rows, 'Sprinkler' has 1"),
    ({"Rain": torch.tensor([2]), "Sprinkler": [0], "Wet": [0]}, ValueError, "row 0 has state index 2"),
    ({"Rain": torch.tensor([0.0]), "Sprinkler": [0], "Wet": [0]}, TypeError, "integer dtype"),
    ({"Rain": ["maybe"], "Sprinkler": [0], "Wet": [0]}, ValueError, "column 'Rain': unknown state 'maybe'"),
    ([[0, 0, 0]], TypeError, "dict node -> column"),
])
def test_bad_rows(rows, error, match):
    with pytest.raises(error, match=match):
        sprinkler().log_prob(rows)


@pytest.mark.parametrize("name", ["child", "insurance", "hailfinder", "win95pts", "pathfinder"])
def test_samples_of_bundled_networks_are_possible_rows(name):
    """Every sampled row has positive probability (pathfinder's tables are full of zeros)."""
    bn = load_network(name)
    s = bn.sample(20_000)
    assert all(v.dtype == torch.int64 and v.min() >= 0 and v.max() < bn.card(n) for n, v in s.items())
    assert torch.isfinite(bn.log_prob(s)).all()
