"""The engine against independent libraries on the bundled bnlearn networks: pgmpy's VariableElimination
(small and medium networks: marginals, P(e) by the chain rule, MAP) and pyAgrum's LazyPropagation (medium
and large: marginals and P(e) for many rows). Both are given the same tables as the engine: built from
the BayesNet, not re-read from the BIF files, with rows renormalised as the engine does (the files round
them to 1 +- 1e-7). Tolerances: 1e-9 on marginals, 1e-9 relative on P(e)."""

import warnings

import pytest
import torch

from probgen.bayesnet.exact import queries
from probgen.bayesnet.io.bundled import load_network

TOL = 1e-9


def _table(bn, n):
    t = bn.cpt(n)
    return t / t.sum(-1, keepdim=True)


def _evidence_rows(bn, n_rows, n_obs, seed):
    """Rows of evidence on random nodes, values from forward samples (so P(e) > 0)."""
    gen = torch.Generator().manual_seed(seed)
    rows = bn.sample(n_rows, generator=gen)
    out = []
    for b in range(n_rows):
        k = int(torch.randint(1, n_obs + 1, (1,), generator=gen))
        nodes = [bn.nodes[int(i)] for i in torch.randperm(len(bn.nodes), generator=gen)[:k]]
        out.append({n: bn.states(n)[int(rows[n][b])] for n in nodes})
    return out


# ---------------------------------------------------------------------------------------------- pgmpy
def to_pgmpy(bn):
    with warnings.catch_warnings():  # pgmpy's import warns about optional extras (torch device, etc.)
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.inference import VariableElimination
        from pgmpy.models import DiscreteBayesianNetwork
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(bn.nodes)
    model.add_edges_from(bn.edges)
    for n in bn.nodes:
        ps = bn.parents(n)
        values = _table(bn, n).reshape(-1, bn.card(n)).T.numpy()  # (card, configs), first parent slowest
        model.add_cpds(
            TabularCPD(
                n,
                bn.card(n),
                values,
                evidence=ps or None,
                evidence_card=[bn.card(p) for p in ps] or None,
                state_names={k: bn.states(k) for k in [n, *ps]},
            )
        )
    return VariableElimination(model)


def pgmpy_probability(ve, evidence: dict) -> float:
    """P(e) by the chain rule P(e1) P(e2 | e1) ... over single-variable queries."""
    p, seen = 1.0, {}
    for n, s in evidence.items():
        q = ve.query([n], evidence=dict(seen) or None, show_progress=False)
        p *= float(q.values[q.state_names[n].index(s)])
        seen[n] = s
    return p


@pytest.mark.parametrize("name", ["asia", "sachs", "child", "insurance", "alarm"])
def test_marginals_and_evidence_probability_match_pgmpy(name):
    bn = load_network(name)
    ve = to_pgmpy(bn)
    for ev in _evidence_rows(bn, 2, 4, seed=len(name)):
        post = queries.posterior(bn, ev)
        for n, m in post.items():
            q = ve.query([n], evidence=ev, show_progress=False)
            want = torch.tensor(
                [q.values[q.state_names[n].index(s)] for s in bn.states(n)], dtype=torch.float64
            )
            torch.testing.assert_close(m, want, atol=TOL, rtol=0)
        assert queries.probability(bn, ev).item() == pytest.approx(pgmpy_probability(ve, ev), rel=TOL)


@pytest.mark.parametrize("name", ["asia", "sachs", "survey", "cancer", "earthquake"])
def test_map_matches_pgmpy_map_query(name):
    bn = load_network(name)
    ve = to_pgmpy(bn)
    for ev in _evidence_rows(bn, 3, 2, seed=7):
        free = [n for n in bn.nodes if n not in ev]
        theirs = ve.map_query(free, evidence=ev, show_progress=False)
        ours = queries.map_assignment(bn, ev)
        assert set(ours) == set(free)

        def log_p(assign, ev=ev):
            row = {**assign, **ev}
            return bn.log_prob({n: [row[n]] for n in bn.nodes}).item()

        assert log_p(ours) == pytest.approx(log_p(theirs), abs=1e-6)  # equal up to ties and row rounding


# --------------------------------------------------------------------------------------------- pyAgrum
def to_pyagrum(bn):
    with warnings.catch_warnings():
        # pyAgrum's SWIG module warns on import ("builtin type swigvarlink has no __module__ attribute");
        # as an error (filterwarnings=error) it aborts the extension's import half-way and crashes.
        warnings.filterwarnings("ignore", message="builtin type swig", category=DeprecationWarning)
        import pyagrum as gum

    g = gum.BayesNet()
    for n in bn.nodes:
        g.add(gum.LabelizedVariable(n, n, [str(s) for s in bn.states(n)]))
    for p, n in bn.edges:
        g.addArc(p, n)
    for n in bn.nodes:
        pot = g.cpt(n)  # toarray() axes are its variables reversed: (..., parents, n)
        order = [len(bn.parents(n)) if v == n else bn.parents(n).index(v) for v in reversed(pot.names)]
        pot.fillWith(_table(bn, n).permute(order).reshape(-1).tolist())
    return g, gum.LazyPropagation(g)  # the engine keeps a raw pointer to g: the caller must keep g alive


@pytest.mark.parametrize("name", ["hailfinder", "win95pts", "hepar2", "andes"])
def test_batched_rows_match_pyagrum_row_by_row(name):
    bn = load_network(name)
    _g, ie = to_pyagrum(bn)
    evs = _evidence_rows(bn, 4, 5, seed=3)
    cols = {n: torch.full((len(evs),), -1) for ev in evs for n in ev}
    for b, ev in enumerate(evs):
        for n, s in ev.items():
            cols[n][b] = bn.states(n).index(s)
    post = queries.posterior(bn, cols, targets=bn.nodes)
    pe = queries.probability(bn, cols)
    single = queries.posterior(bn, evs[0])  # the single-row code path too
    for b, ev in enumerate(evs):
        ie.eraseAllEvidence()
        ie.setEvidence({n: str(s) for n, s in ev.items()})
        ie.makeInference()
        assert pe[b].item() == pytest.approx(ie.evidenceProbability(), rel=TOL)
        for n in bn.nodes:
            want = torch.as_tensor(ie.posterior(n).toarray(), dtype=torch.float64)
            torch.testing.assert_close(post[n][b], want, atol=TOL, rtol=0)
            if b == 0 and n in single:
                torch.testing.assert_close(single[n], want, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", ["alarm", "hailfinder", "win95pts"])
def test_map_is_a_local_maximum_of_the_joint(name):
    """No single change of an unobserved node's state raises log P(x, e) (oracle: bn.log_prob)."""
    bn = load_network(name)
    for ev in _evidence_rows(bn, 2, 4, seed=11):
        mpe, log_p = queries.map_assignment(bn, ev, return_log_prob=True)
        row = {n: bn.state_index(n, s) for n, s in {**mpe, **ev}.items()}
        base = bn.log_prob({n: [row[n]] for n in bn.nodes}).item()  # raw rows: 1e-7 from renormalised
        assert log_p.item() == pytest.approx(base, abs=1e-5)
        flips = {n: [] for n in bn.nodes}  # every single-node change, as one batch of complete rows
        for n in mpe:
            for k in range(bn.card(n)):
                if k != row[n]:
                    for m in bn.nodes:
                        flips[m].append(k if m == n else row[m])
        assert bn.log_prob(flips).max().item() <= base + 1e-5
