"""``bn.fit``: data formats, maximum likelihood and Bayes estimates, EM over missing cells and latent nodes.

Oracles: closed-form maximum likelihood with monotone gaps, the counting estimator (EM on complete data),
brute-force enumeration of the joint table (the E-step's expected counts), and the generating network.
"""

import itertools
import logging
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch
from bn_helpers import five_node, joint, random_networks, sprinkler
from hypothesis import given, settings

import probgen
from probgen.bayesnet import BayesNet, TabularCPD
from probgen.bayesnet.learn.estep import EStep, distinct_rows


def _frame(bn, samples, kind="names"):
    if kind == "category":
        return pd.DataFrame({n: pd.Categorical.from_codes(samples[n].numpy(), bn.states(n))
                             for n in bn.nodes})
    if kind == "codes":
        return pd.DataFrame({n: samples[n].numpy() for n in bn.nodes})
    return pd.DataFrame({n: np.asarray(bn.states(n), dtype=object)[samples[n].numpy()] for n in bn.nodes})


def _mask(frame, rate, seed=0):
    return frame.mask(np.random.default_rng(seed).random(frame.shape) < rate)


def _tv(a: BayesNet, b: BayesNet) -> float:
    """Mean total-variation distance between corresponding CPT rows."""
    rows = [0.5 * (a.cpt(n) - b.cpt(n)).abs().sum(-1).reshape(-1) for n in a.nodes]
    return float(torch.cat(rows).mean())


def _same_tables(a: BayesNet, b: BayesNet, atol=1e-12) -> bool:
    return a.nodes == b.nodes and all(torch.allclose(a.cpt(n), b.cpt(n), atol=atol, rtol=0) for n in a.nodes)


# ------------------------------------------------------------------------------------------ data formats
def test_every_data_format_gives_the_same_tables(tmp_path):
    bn = five_node()
    s = bn.sample(2000)
    ref = bn.fit(s)
    frames = {k: _frame(bn, s, k) for k in ("names", "category", "codes")}
    for kind, frame in frames.items():
        assert _same_tables(bn.fit(frame), ref), kind
    assert _same_tables(bn.fit({n: s[n].numpy() for n in bn.nodes}), ref)
    frames["names"].to_csv(tmp_path / "rows.csv", index=False)
    assert _same_tables(bn.fit(tmp_path / "rows.csv"), ref)
    assert _same_tables(bn.fit(str(tmp_path / "rows.csv")), ref)


def test_category_columns_in_any_category_order():
    """Categories in another order than the states, unused categories, gaps: one gather each."""
    bn = sprinkler()
    s = bn.sample(500)
    names = _frame(bn, s)
    ref = bn.fit(names)
    shuffled = pd.DataFrame({n: pd.Categorical(names[n], categories=bn.states(n)[::-1] + ["unused"])
                             for n in bn.nodes})
    assert _same_tables(bn.fit(shuffled), ref)
    bad = shuffled.assign(Wet=pd.Categorical(["damp"] + ["dry"] * 499))
    with pytest.raises(ValueError, match=r"data column 'Wet': unknown state 'damp'.*\(row 0\)"):
        bn.fit(bad)


def test_missing_cells_in_every_format_give_the_same_em_fit(tmp_path):
    bn = sprinkler()
    s = bn.sample(600)
    names = _mask(_frame(bn, s), 0.2)
    ref = bn.fit(names)
    assert ref.fit_info.method == "em" and ref.fit_info.converged
    codes = pd.DataFrame({n: pd.Categorical(names[n], bn.states(n)).codes for n in bn.nodes})
    codes = codes.mask(codes < 0)
    as_float = codes.astype(float)  # NaN for the gaps: what pandas does with an integer column with gaps
    nullable = codes.astype("Int64")  # pd.NA for the gaps
    tensors = {n: torch.tensor(as_float[n].fillna(-1).to_numpy(), dtype=torch.int64) for n in bn.nodes}
    names.to_csv(tmp_path / "gaps.csv", index=False)
    category = names.astype("category")
    for data in (as_float, nullable, tensors, tmp_path / "gaps.csv", category):
        assert _same_tables(bn.fit(data), ref, atol=1e-10)


# ------------------------------------------------------------------------------- estimates, recovery
def test_bayes_priors_and_mle_in_closed_form():
    g = nx.DiGraph([("A", "B")])
    g.nodes["A"]["cpd"] = TabularCPD([0, 1], [0.5, 0.5])
    g.nodes["B"]["cpd"] = TabularCPD([0, 1], [[0.5, 0.5], [0.5, 0.5]], parents=["A"])
    bn = BayesNet(g)
    data = {"A": [0, 0, 0, 1], "B": [1, 1, 0, 0]}
    assert bn.fit(data).cpt("B").tolist() == [[1 / 3, 2 / 3], [1.0, 0.0]]
    k2 = bn.fit(data, method="bayes", prior="k2")
    assert k2.cpt("A").tolist() == [4 / 6, 2 / 6]
    assert k2.cpt("B").tolist() == [[2 / 5, 3 / 5], [2 / 3, 1 / 3]]
    bdeu = bn.fit(data, method="bayes", equivalent_sample_size=4)  # 1 per cell of B's table, 2 of A's
    assert bdeu.cpt("A").tolist() == [5 / 8, 3 / 8]
    assert bdeu.cpt("B").tolist() == [[2 / 5, 3 / 5], [2 / 3, 1 / 3]]
    half = bn.fit(data, method="bayes", prior="dirichlet", pseudo_counts={"A": 0.5, "B": [[0, 1], [1, 0]]})
    assert half.cpt("A").tolist() == [3.5 / 5, 1.5 / 5]
    assert half.cpt("B").tolist() == [[1 / 4, 3 / 4], [1.0, 0.0]]


def test_parameter_recovery_improves_as_data_grows():
    """The mean TV to the generating tables shrinks with the rows, about as 1/sqrt(N) (MLE and EM)."""
    bn = five_node()
    probgen.seed(5)
    s = bn.sample(64_000)
    frame = _frame(bn, s, "category")
    tvs = [_tv(bn.fit(frame.iloc[:n]), bn) for n in (1000, 4000, 16_000, 64_000)]
    assert all(b < a for a, b in zip(tvs, tvs[1:])), tvs
    assert tvs[-1] < 0.35 * tvs[0]  # 8x fewer sqrt-rows: about 1/8 at best, 1/2.8 required
    gaps = _mask(frame, 0.2, seed=1)
    em = [_tv(bn.fit(gaps.iloc[:n]), bn) for n in (1000, 16_000)]
    assert em[1] < 0.5 * em[0], em


def test_em_with_no_missing_cell_equals_mle():
    bn = five_node()
    s = bn.sample(3000)
    for method, prior in (("mle", None), ("bayes", "bdeu"), ("bayes", "k2")):
        direct = bn.fit(s, method=method, prior=prior)
        em = bn.fit(s, method="em", prior=prior or "mle")
        assert _same_tables(direct, em, atol=1e-15)
        assert em.fit_info.converged and em.fit_info.iterations <= 2


def test_em_two_node_closed_form():
    """A -> B, A missing in some rows: the model is saturated, so the MLE of the joint is
    P(B) from every row times P(A | B) from the complete rows (monotone gaps: a closed form)."""
    g = nx.DiGraph([("A", "B")])
    g.nodes["A"]["cpd"] = TabularCPD(["a0", "a1"], [0.3, 0.7])
    g.nodes["B"]["cpd"] = TabularCPD(["b0", "b1", "b2"], [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], parents=["A"])
    bn = BayesNet(g)
    s = bn.sample(4000)
    a = s["A"].clone()
    a[torch.rand(4000) < 0.4] = -1
    fitted = bn.fit({"A": a, "B": s["B"]}, tol=1e-14, max_iter=2000)
    seen = a >= 0
    p_b = torch.bincount(s["B"], minlength=3).double() / 4000  # (3,)
    n_ab = torch.bincount(s["B"][seen] * 2 + a[seen], minlength=6).double().reshape(3, 2)  # N[b, a]
    joint_ba = p_b[:, None] * n_ab / n_ab.sum(1, keepdim=True)  # P(B, A)
    p_a = joint_ba.sum(0)
    assert torch.allclose(fitted.cpt("A"), p_a, atol=1e-9)
    assert torch.allclose(fitted.cpt("B"), (joint_ba / p_a).t(), atol=1e-9)
    trace = fitted.fit_info.log_likelihood
    assert all(b >= a - 1e-9 for a, b in zip(trace, trace[1:]))  # EM never lowers the likelihood


@settings(max_examples=15, deadline=None)
@given(random_networks(max_nodes=4, max_card=3, zeros=False))
def test_expected_counts_match_enumeration(bn):
    """The E-step's expected family counts and log P(e) equal brute-force sums over the joint table."""
    gen = torch.Generator().manual_seed(len(bn.nodes))
    n = 7
    codes = torch.stack([torch.randint(bn.card(v), (n,), generator=gen) for v in bn.nodes], 1)
    codes[torch.rand(codes.shape, generator=gen) < 0.5] = -1
    rows, weights = distinct_rows(codes)
    ll, expected = EStep(bn, rows, weights)([bn.cpt(v) for v in bn.nodes])
    table = joint(bn)  # (card per node in bn.nodes order)
    want = [torch.zeros_like(bn.cpt(v)) for v in bn.nodes]
    want_ll = 0.0
    for row in codes.tolist():
        index = tuple(slice(None) if x < 0 else x for x in row)
        mask = torch.zeros_like(table)
        mask[index] = 1.0
        post = table * mask
        z = post.sum()
        want_ll += math.log(z)
        for i, v in enumerate(bn.nodes):
            axes = [bn.nodes.index(p) for p in [*bn.parents(v), v]]
            others = [d for d in range(table.dim()) if d not in axes]
            fam = post.sum(others) if others else post
            order = sorted(range(len(axes)), key=axes.__getitem__)  # fam's axes are in node order
            want[i] += fam.permute([order.index(j) for j in range(len(axes))]) / z
    assert ll == pytest.approx(want_ll, abs=1e-9)
    for i, v in enumerate(bn.nodes):
        assert torch.allclose(expected[i], want[i], atol=1e-9), v


# ----------------------------------------------------------------------------------------------- latent
def _naive_bayes(k=3, m=6, card=3, seed=0) -> BayesNet:
    gen = torch.Generator().manual_seed(seed)
    g = nx.DiGraph([("H", f"X{i}") for i in range(m)])
    prior = torch.rand(k, generator=gen, dtype=torch.float64) + 0.5
    g.nodes["H"]["cpd"] = TabularCPD(list(range(k)), prior, normalize=True)
    for i in range(m):
        probs = torch.rand(k, card, generator=gen, dtype=torch.float64) ** 3 + 0.02
        g.nodes[f"X{i}"]["cpd"] = TabularCPD([f"s{j}" for j in range(card)], probs, ["H"], normalize=True)
    return BayesNet(g)


def _tv_up_to_relabelling(fitted: BayesNet, bn: BayesNet, latent="H") -> float:
    best = float("inf")
    for perm in itertools.permutations(range(bn.card(latent))):
        p = list(perm)
        rows = [0.5 * (fitted.cpt(latent)[p] - bn.cpt(latent)).abs().sum().reshape(1)]
        rows += [0.5 * (fitted.cpt(c)[p] - bn.cpt(c)).abs().sum(-1) for c in bn.children(latent)]
        best = min(best, float(torch.cat(rows).max()))
    return best


def test_latent_class_recovered_up_to_relabelling():
    bn = _naive_bayes()
    s = bn.sample(6000)
    data = {n: s[n] for n in bn.nodes if n != "H"}
    fitted = bn.fit(data, latent={"H"}, generator=torch.Generator().manual_seed(1))
    info = fitted.fit_info
    assert info.latent == ["H"] and len(info.restart_log_likelihoods) == 5
    assert info.log_likelihood[-1] == max(info.restart_log_likelihoods)
    assert _tv_up_to_relabelling(fitted, bn) < 0.08


def test_initial_guess_declares_a_latent_node():
    bn = _naive_bayes(k=2, m=4, card=2, seed=3)
    s = bn.sample(3000)
    data = {n: s[n] for n in bn.nodes if n != "H"}
    guess = {"H": TabularCPD([0, 1], [0.5, 0.5]),
             **{c: torch.tensor([[0.7, 0.3], [0.3, 0.7]]) for c in bn.children("H")}}
    fitted = bn.fit(data, init=guess, n_restarts=1)
    assert fitted.fit_info.latent == ["H"] and _tv_up_to_relabelling(fitted, bn) < 0.1


def test_em_is_chosen_with_a_note(caplog):
    bn = sprinkler()
    frame = _mask(_frame(bn, bn.sample(300)), 0.1)
    with caplog.at_level(logging.INFO, logger="probgen.bayesnet.learn.fit"):
        fitted = bn.fit(frame, method="bayes", prior="k2")
    assert fitted.fit_info.method == "em"
    assert any("missing cells: fitting by EM with prior 'k2'" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------------------- bad input
def test_fit_errors_name_the_culprit(tmp_path):
    bn = sprinkler()
    frame = _frame(bn, bn.sample(50))
    with pytest.raises(ValueError, match=r"data columns \['Extra'\] are not nodes.*ignore_extra=True"):
        bn.fit(frame.assign(Extra=1))
    assert _same_tables(bn.fit(frame.assign(Extra=1), ignore_extra=True), bn.fit(frame))
    with pytest.raises(ValueError, match=r"data column 'Wet': unknown state 'damp'.*\['dry', 'wet'\]"):
        bn.fit(frame.assign(Wet=["damp"] * 50))
    with pytest.raises(ValueError, match="data has no rows"):
        bn.fit(frame.iloc[:0])
    with pytest.raises(ValueError, match=r"nodes \['Wet'\] have no column.*latent=\{'Wet'\}"):
        bn.fit(frame.drop(columns="Wet"))
    with pytest.raises(ValueError, match="data column 'Wet' has no observed cell; declare the node latent"):
        bn.fit(frame.assign(Wet=None))
    with pytest.raises(ValueError, match="`latent` names an unknown node 'Wett'; did you mean 'Wet'"):
        bn.fit(frame, latent={"Wett"})
    with pytest.raises(ValueError, match=r"`method`='ml' is not one of \['mle', 'bayes', 'em'\]"):
        bn.fit(frame, method="ml")
    with pytest.raises(ValueError, match=r"`prior`='bde' is not one of"):
        bn.fit(frame, method="bayes", prior="bde")
    with pytest.raises(ValueError, match="method='mle' takes no prior"):
        bn.fit(frame, prior="k2")
    with pytest.raises(ValueError, match=r"`pseudo_counts` must be a finite number in \[0, inf\), got -0.9"):
        bn.fit(frame, method="bayes", prior="dirichlet", pseudo_counts=-0.9)
    with pytest.raises(ValueError, match=r"`pseudo_counts\['Rain'\]` must hold finite non-negative"):
        bn.fit(frame, method="bayes", prior="dirichlet", pseudo_counts={"Rain": [1.0, -0.5]})
    with pytest.raises(ValueError, match=r"`equivalent_sample_size` must be a finite number in \(0, inf\), "
                                         r"got -5"):
        bn.fit(frame, method="bayes", equivalent_sample_size=-5)
    with pytest.raises(ValueError, match="`max_iter` must be an int >= 1, got -3"):
        bn.fit(frame, method="em", max_iter=-3)
    with pytest.raises(ValueError, match="`n_restarts` must be an int >= 1, got 0"):
        bn.fit(frame, method="em", n_restarts=0)
    with pytest.raises(ValueError, match="no CSV file at"):
        bn.fit(str(tmp_path / "nothing.csv"))
    with pytest.raises(TypeError, match=r"data column 'Rain': 0.5 \(row 1\) is not a state"):
        bn.fit({**{n: [0, 0] for n in bn.nodes}, "Rain": np.array([0.0, 0.5])})
    with pytest.raises(ValueError, match=r"init\['Rain'\]: .*sums to 0.5"):
        bn.fit(frame, method="em", init={"Rain": [0.2, 0.3]})
