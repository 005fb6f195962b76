"""Exact inference against brute-force enumeration of the joint table (bn_helpers.joint, an oracle that
multiplies CPT entries and shares no code with the engine). Tolerances: 1e-9 absolute on probabilities
(float64 round-off over a few dozen products is ~1e-15)."""

import itertools
import math

import networkx as nx
import pytest
import torch
from bn_helpers import five_node, joint, random_networks, sprinkler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probgen.bayesnet import BayesNet, TabularCPD
from probgen.bayesnet.exact import queries
from probgen.bayesnet.exact.compiled import compiled
from probgen.bayesnet.io.bundled import load_network

TOL = 1e-9


def brute(bn, evidence: dict, table=None):
    """(P(e), {unobserved node: P(node | e)}, log of the largest P(x, e)) from the joint table."""
    table = joint(bn) if table is None else table
    sub = table[tuple(evidence.get(n, slice(None)) for n in bn.nodes)]
    free = [n for n in bn.nodes if n not in evidence]
    pe = sub.sum()
    margs = {}
    for i, n in enumerate(free):
        m = sub.sum([d for d in range(len(free)) if d != i]) if len(free) > 1 else sub
        margs[n] = m / pe
    return pe.item(), margs, sub.max().log().item() if sub.numel() else pe.log().item()


def all_evidence(bn, max_nodes=2):
    for k in range(max_nodes + 1):
        for nodes in itertools.combinations(bn.nodes, k):
            for vals in itertools.product(*(range(bn.card(n)) for n in nodes)):
                yield dict(zip(nodes, vals))


def complete(assignment: dict, evidence: dict, bn) -> dict:
    """A full row (node -> int64 tensor (1,)) from a MAP assignment of names plus the evidence."""
    row = {n: bn.state_index(n, s) for n, s in assignment.items()}
    row.update(evidence)
    return {n: torch.tensor([row[n]]) for n in bn.nodes}


@pytest.mark.parametrize("make", [sprinkler, five_node])
def test_every_small_query_matches_enumeration(make):
    bn = make()
    table = joint(bn)
    for ev in all_evidence(bn, max_nodes=2):
        pe, margs, best = brute(bn, ev, table)
        assert queries.probability(bn, ev).item() == pytest.approx(pe, abs=TOL)
        if pe == 0:
            with pytest.raises(ValueError, match="probability zero"):
                queries.posterior(bn, ev)
            continue
        post = queries.posterior(bn, ev)
        assert list(post) == [n for n in bn.nodes if n not in ev]  # default targets, topological order
        for n, m in margs.items():
            torch.testing.assert_close(post[n], m, atol=TOL, rtol=0)
        mpe, log_p = queries.map_assignment(bn, ev, return_log_prob=True)
        assert set(mpe) == set(margs)
        assert log_p.item() == pytest.approx(best, abs=TOL)
        assert bn.log_prob(complete(mpe, ev, bn)).item() == pytest.approx(best, abs=TOL)


def _rows_of(bn, n_rows, gen):
    """Random per-row evidence on every node, about half of the entries unobserved (-1)."""
    cols = {}
    for n in bn.nodes:
        v = torch.randint(0, bn.card(n), (n_rows,), generator=gen)
        v[torch.rand(n_rows, generator=gen) < 0.5] = -1
        cols[n] = v
    return cols


def _row(cols, b):
    return {n: int(v[b]) for n, v in cols.items() if v[b] >= 0}


@pytest.mark.parametrize("make", [sprinkler, five_node])
def test_batched_rows_with_missing_entries_match_enumeration_row_by_row(make):
    bn = make()
    table = joint(bn)
    cols = _rows_of(bn, 40, torch.Generator().manual_seed(1))
    pes = torch.tensor([brute(bn, _row(cols, b), table)[0] for b in range(40)], dtype=torch.float64)
    torch.testing.assert_close(queries.probability(bn, cols), pes, atol=TOL, rtol=0)
    keep = pes > 0
    cols = {n: v[keep] for n, v in cols.items()}
    post = queries.posterior(bn, cols, targets=bn.nodes)
    mpe = queries.map_assignment(bn, cols)
    for b in range(int(keep.sum())):
        ev = _row(cols, b)
        _, margs, best = brute(bn, ev, table)
        for n in bn.nodes:
            want = margs[n] if n in margs else torch.nn.functional.one_hot(torch.tensor(ev[n]), bn.card(n))
            torch.testing.assert_close(post[n][b], want.double(), atol=TOL, rtol=0)
        row = {n: int(mpe[n][b]) if n in mpe else ev[n] for n in bn.nodes}
        for n in ev:  # a node observed in this row keeps its value
            assert row[n] == ev[n]
        full = {n: torch.tensor([row[n]]) for n in bn.nodes}
        assert bn.log_prob(full).item() == pytest.approx(best, abs=TOL)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bn=random_networks(max_nodes=6, max_card=3), data=st.data())
def test_random_networks_match_enumeration(bn, data):
    ev = {}
    for n in data.draw(st.lists(st.sampled_from(bn.nodes), unique=True, max_size=3), label="observed"):
        ev[n] = data.draw(st.integers(0, bn.card(n) - 1), label=n)
    pe, margs, best = brute(bn, ev)
    batched = {n: torch.tensor([v, v]) for n, v in ev.items()} or None  # the per-row code path
    assert queries.probability(bn, ev).item() == pytest.approx(pe, abs=TOL)
    if batched:
        torch.testing.assert_close(
            queries.probability(bn, batched), torch.tensor([pe, pe], dtype=torch.float64), atol=TOL, rtol=0
        )
    if pe == 0:
        with pytest.raises(ValueError, match="probability zero"):
            queries.posterior(bn, ev)
        with pytest.raises(ValueError, match="probability zero"):
            queries.map_assignment(bn, ev)
        return
    post = queries.posterior(bn, ev)
    post_b = queries.posterior(bn, batched) if batched else None
    for n, m in margs.items():
        torch.testing.assert_close(post[n], m, atol=TOL, rtol=0)
        if batched:
            torch.testing.assert_close(post_b[n], m.expand(2, -1), atol=TOL, rtol=0)
    for mpe in (queries.map_assignment(bn, ev), None if not batched else queries.map_assignment(bn, batched)):
        if mpe is None:
            continue
        names = {n: (bn.states(n)[int(v[1])] if isinstance(v, torch.Tensor) else v) for n, v in mpe.items()}
        assert bn.log_prob(complete(names, ev, bn)).item() == pytest.approx(best, abs=TOL)


def test_targets_select_and_order_the_marginals_and_observed_targets_are_one_hot():
    bn = five_node()
    post = queries.posterior(bn, {"X4": 1}, targets=["X5", "X4", "X1"])
    assert list(post) == ["X5", "X4", "X1"]
    torch.testing.assert_close(post["X4"], torch.tensor([0.0, 1.0], dtype=torch.float64))
    _, margs, _ = brute(bn, {"X4": 1})
    torch.testing.assert_close(post["X5"], margs["X5"], atol=TOL, rtol=0)
    one = queries.posterior(bn, {"X4": 1}, targets="X1")
    assert list(one) == ["X1"]
    torch.testing.assert_close(one["X1"], margs["X1"], atol=TOL, rtol=0)
    rows = queries.posterior(bn, {"X4": torch.tensor([1, 0, 1])}, targets=["X4", "X2"])
    torch.testing.assert_close(rows["X4"], torch.eye(2, dtype=torch.float64)[[1, 0, 1]])
    assert rows["X2"].shape == (3, 2)


def test_state_names_and_indices_mix_and_scalars_broadcast_over_rows():
    bn = sprinkler()
    a = queries.posterior(bn, {"Wet": "wet", "Sprinkler": 0})
    b = queries.posterior(bn, {"Wet": torch.tensor(1), "Sprinkler": "off"})
    torch.testing.assert_close(a["Rain"], b["Rain"])
    rows = queries.posterior(bn, {"Wet": torch.tensor([1, 0]), "Sprinkler": "off"})
    torch.testing.assert_close(rows["Rain"][0], a["Rain"])
    names = queries.posterior(bn, {"Wet": ["wet", "dry"], "Sprinkler": [0, None]})  # lists of names / None
    torch.testing.assert_close(names["Rain"][0], a["Rain"])
    torch.testing.assert_close(names["Rain"][1], queries.posterior(bn, {"Wet": "dry"})["Rain"])


def test_bayesnet_methods_delegate_to_the_engine():
    bn = sprinkler()
    torch.testing.assert_close(
        bn.posterior({"Wet": "wet"})["Rain"], queries.posterior(bn, {"Wet": "wet"})["Rain"]
    )
    assert bn.probability({"Wet": "wet"}).item() == pytest.approx(brute(bn, {"Wet": 1})[0], abs=TOL)
    assert bn.log_probability({"Wet": "wet"}).item() == pytest.approx(math.log(brute(bn, {"Wet": 1})[0]))
    assert bn.map({"Wet": "wet"}) == {"Rain": "no", "Sprinkler": "on"}


def test_no_evidence_gives_the_prior_marginals_and_probability_one():
    bn = five_node()
    _, margs, _ = brute(bn, {})
    post = queries.posterior(bn)
    for n in bn.nodes:
        torch.testing.assert_close(post[n], margs[n], atol=TOL, rtol=0)
    assert queries.probability(bn).item() == pytest.approx(1.0, abs=TOL)
    assert queries.log_probability(bn, {"X1": torch.tensor([], dtype=torch.int64)}).shape == (0,)
    assert queries.posterior(bn, {"X1": torch.tensor([], dtype=torch.int64)})["X2"].shape == (0, 2)


def test_float32_agrees_with_float64():
    bn = load_network("alarm")
    ev = {"HRBP": "HIGH", "CO": "LOW", "BP": "LOW"}
    hi = queries.posterior(bn, ev)
    lo = queries.posterior(bn, ev, dtype=torch.float32)
    for n in hi:
        assert lo[n].dtype == torch.float32
        torch.testing.assert_close(lo[n].double(), hi[n], atol=2e-6, rtol=0)
    assert queries.log_probability(bn, ev, dtype=torch.float32).item() == pytest.approx(
        queries.log_probability(bn, ev).item(), rel=1e-5
    )


def chain(n: int, p: float = 0.999) -> BayesNet:
    """X0 -> X1 -> ... binary, each copying its parent with probability p."""
    g = nx.DiGraph([(f"X{i}", f"X{i + 1}") for i in range(n - 1)])
    g.nodes["X0"]["cpd"] = TabularCPD([0, 1], [0.5, 0.5])
    for i in range(1, n):
        g.nodes[f"X{i}"]["cpd"] = TabularCPD([0, 1], [[p, 1 - p], [1 - p, p]], parents=[f"X{i - 1}"])
    return BayesNet(g)


def test_no_underflow_far_below_float64_range():
    """Alternating evidence on a 1,500-node chain: log P(e) = log 0.5 + 1499 log(0.001) (closed form),
    about -10,355, while P(e) itself is below float64's smallest subnormal (1e-324)."""
    n = 1500
    bn = chain(n)
    ev = {f"X{i}": i % 2 for i in range(n)}
    want = math.log(0.5) + (n - 1) * math.log(0.001)
    assert queries.log_probability(bn, ev).item() == pytest.approx(want, rel=1e-12)
    rows = {k: torch.tensor([v, v]) for k, v in ev.items()}
    torch.testing.assert_close(
        queries.log_probability(bn, rows), torch.tensor([want, want], dtype=torch.float64), rtol=1e-12, atol=0
    )
    free = {k: v for k, v in ev.items() if k != "X700"}  # X699 = X701 = 1 around a free node
    post = queries.posterior(bn, free, targets=["X700"])["X700"]
    p = torch.tensor([0.001**2, 0.999**2], dtype=torch.float64)
    torch.testing.assert_close(post, p / p.sum(), atol=1e-12, rtol=0)
    assert queries.probability(bn, ev).item() == 0.0  # the honest float64 value, not NaN


def test_plans_are_cached_per_pattern():
    bn = load_network("asia")
    net = compiled(bn)
    queries.posterior(bn, {"xray": "yes"})
    queries.posterior(bn, {"dysp": "no"})  # single rows share one plan
    n = len(net._plans)
    rows = {"xray": torch.tensor([0, 1, 1])}
    queries.posterior(bn, rows)
    queries.posterior(bn, {"xray": torch.tensor([1, 0, 0])})  # same pattern, same bucket: a hit
    assert len(net._plans) == n + 1
    assert compiled(bn) is net


def test_too_large_tables_are_refused_with_their_size_and_a_pointer_to_approximate_inference():
    bn = load_network("alarm")
    with pytest.raises(
        queries.InferenceTooLargeError,
        match=r"table of 108 entries \(864 B in float64\).*likelihood_weighting",
    ):
        queries.posterior(bn, {"CO": "LOW"}, max_table_size=100)
    with pytest.raises(ValueError, match="max_table_size=100"):  # also a ValueError
        queries.map_assignment(bn, {"CO": torch.tensor([0, 1])}, max_table_size=100)


def test_row_chunks_give_the_same_answer(monkeypatch):
    bn = load_network("asia")
    cols = _rows_of(bn, 50, torch.Generator().manual_seed(3))
    cols = {n: v for n, v in cols.items() if n in ("xray", "dysp", "smoke")}
    whole = queries.posterior(bn, cols)
    monkeypatch.setattr(queries, "MEMORY_BUDGET", 1)  # one row per chunk
    compiled(bn)._plans.clear()
    parts = queries.posterior(bn, cols)
    for n in whole:
        torch.testing.assert_close(parts[n], whole[n], atol=1e-12, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    bn = load_network("alarm")
    rows = {"HRBP": torch.tensor([0, 1, 2, -1]), "CO": torch.tensor([0, 0, 2, 1])}
    cpu = queries.posterior(bn, rows)
    gpu = queries.posterior(bn, {k: v.cuda() for k, v in rows.items()})
    for n in cpu:
        assert gpu[n].is_cuda
        torch.testing.assert_close(gpu[n].cpu(), cpu[n], atol=1e-12, rtol=0)
    one = queries.posterior(bn, {"HRBP": "HIGH"}, device="cuda")
    torch.testing.assert_close(
        one["CO"].cpu(), queries.posterior(bn, {"HRBP": "HIGH"})["CO"], atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("k", [5, 40])  # exact mixed-radix keys / hashed keys (checked) past 63 bits
def test_distinct_rows_group_exactly_the_equal_rows(k):
    gen = torch.Generator().manual_seed(k)
    values = torch.randint(-1, 4, (3000, k), generator=gen)
    values[1500:] = values[torch.randint(0, 1500, (1500,), generator=gen)]  # many repeats
    distinct, inverse = queries._unique_rows(values)
    assert torch.equal(distinct[inverse], values)
    assert len(distinct) == len({tuple(r) for r in values.tolist()})


def test_small_work_runs_on_one_thread_and_the_setting_is_restored(monkeypatch):
    from probgen import threads
    from probgen.bayesnet.exact import kernels

    monkeypatch.setattr(threads, "spare_cores", lambda: 2)  # as on a quiet machine
    seen = []
    real = kernels.run_op
    monkeypatch.setattr(
        "probgen.bayesnet.exact.contract.run_op",
        lambda op, t: seen.append(torch.get_num_threads()) or real(op, t),
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        queries.posterior(sprinkler(), {"Wet": "wet"})
        assert set(seen) == {1} and torch.get_num_threads() == 2
        with pytest.raises(ValueError):  # restored on errors too
            queries.posterior(sprinkler(), {"Rain": "no", "Sprinkler": "off", "Wet": "wet"})
        assert torch.get_num_threads() == 2
        seen.clear()
        monkeypatch.setitem(threads.MIN_WORK, "contract", 0)
        queries.posterior(sprinkler(), {"Wet": "wet"})
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)


def test_complete_rows_give_the_log_joint_and_an_empty_explanation():
    """Oracle: bn.log_prob (the sum of log CPT entries); child's rows sum to one exactly."""
    bn = load_network("child")
    rows = bn.sample(50, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(queries.log_probability(bn, rows), bn.log_prob(rows), atol=1e-12, rtol=0)
    one = {n: int(v[0]) for n, v in rows.items()}
    assert queries.log_probability(bn, one).item() == pytest.approx(bn.log_prob(rows)[0].item(), abs=1e-12)
    assert queries.map_assignment(bn, rows) == {} and queries.posterior(bn, one) == {}
    assert queries.posterior(bn, {"Age": "0-3_days"}, targets=[]) == {}
