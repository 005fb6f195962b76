"""Bayesian-network inference against pgmpy and pyAgrum, measured interleaved in one run.

Tables (Markdown):

1. Exact inference per network (alarm, hailfinder, win95pts, pathfinder, andes): random evidence patterns
   (1-5 observed nodes, values from forward samples so that P(e) > 0); the largest |difference| of all
   posterior marginals and the relative difference of P(e) against pyAgrum's LazyPropagation and pgmpy's
   VariableElimination, and the median latency of one query (all marginals of one evidence row). pyAgrum
   and pgmpy get the same tables as probgen (built from the BayesNet, rows renormalised as probgen does);
   each library's per-network set-up (probgen's compile, pyAgrum's junction tree, pgmpy's model) is done
   before timing, and the three run in turn on each pattern.
2. Batched queries on alarm: all marginals of 10,000 rows, against pyAgrum row by row (timed on a subset
   and scaled to 10,000 rows), for a fixed set of 5 observed nodes and for ~3 random observed nodes a row.
3. Forward sampling of alarm (probgen's ``bn.sample``) against pgmpy's ``simulate``, per million rows.
4. BIF parsing of alarm: probgen's ``read_bif`` against pgmpy's ``BIFReader`` and pyAgrum's ``loadBN``.
5. (``--all``) exact inference on every bundled network: compile time, one query, largest table.

    python bench/bayesnet.py            # the tables in docs/benchmarks.md (a few minutes)
    python bench/bayesnet.py --quick    # alarm only, few patterns: a smoke test (seconds)
    python bench/bayesnet.py --all      # also table 5 (several minutes more)
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from probgen.bayesnet import exact, read_bif
from probgen.bayesnet.exact.compiled import compiled
from probgen.bayesnet.io.bundled import list_networks, load_network, network_path

NETWORKS = ["alarm", "hailfinder", "win95pts", "pathfinder", "andes"]


def _quiet_imports():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgmpy and pyAgrum warn on import (optional extras, SWIG)
        import pgmpy.inference  # noqa: F401
        import pgmpy.models  # noqa: F401
        import pgmpy.readwrite  # noqa: F401
        import pyagrum as gum
    return gum


def _table(bn, n):
    t = bn.cpt(n)
    return t / t.sum(-1, keepdim=True)


def to_pyagrum(bn):
    """(network, LazyPropagation) with probgen's tables; keep the network alive with the engine."""
    gum = _quiet_imports()
    g = gum.BayesNet()
    for n in bn.nodes:
        g.add(gum.LabelizedVariable(n, n, [str(s) for s in bn.states(n)]))
    for p, n in bn.edges:
        g.addArc(p, n)
    for n in bn.nodes:
        pot = g.cpt(n)  # toarray() axes are its variables reversed: (..., parents, n)
        order = [len(bn.parents(n)) if v == n else bn.parents(n).index(v) for v in reversed(pot.names)]
        pot.fillWith(_table(bn, n).permute(order).reshape(-1).tolist())
    return g, gum.LazyPropagation(g)


def to_pgmpy(bn):
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork()
    model.add_nodes_from(bn.nodes)
    model.add_edges_from(bn.edges)
    for n in bn.nodes:
        ps = bn.parents(n)
        model.add_cpds(
            TabularCPD(
                n,
                bn.card(n),
                _table(bn, n).reshape(-1, bn.card(n)).T.numpy(),
                evidence=ps or None,
                evidence_card=[bn.card(p) for p in ps] or None,
                state_names={k: [str(s) for s in bn.states(k)] for k in [n, *ps]},
            )
        )
    return model, VariableElimination(model)


def evidence_patterns(bn, k: int, seed: int) -> list[dict]:
    """k evidence dicts (state names as str) on 1-5 random nodes, values from one forward sample each."""
    gen = torch.Generator().manual_seed(seed)
    rows = bn.sample(k, generator=gen)
    out = []
    for b in range(k):
        m = int(torch.randint(1, 6, (1,), generator=gen))
        nodes = [bn.nodes[int(i)] for i in torch.randperm(len(bn.nodes), generator=gen)[:m]]
        out.append({n: str(bn.states(n)[int(rows[n][b])]) for n in nodes})
    return out


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def ours_query(bn, ev):
    return exact.posterior(bn, ev), exact.probability(bn, ev).item()


def agrum_query(ie, bn, ev):
    ie.eraseAllEvidence()
    ie.setEvidence(ev)
    ie.makeInference()
    post = {n: ie.posterior(n).toarray() for n in bn.nodes if n not in ev}
    return post, ie.evidenceProbability()


def pgmpy_query(ve, bn, ev):
    post = {}
    for n in bn.nodes:
        if n not in ev:
            q = ve.query([n], evidence=ev, show_progress=False)
            post[n] = [q.values[q.state_names[n].index(str(s))] for s in bn.states(n)]
    p, seen = 1.0, {}
    for n, s in ev.items():  # P(e) by the chain rule
        q = ve.query([n], evidence=dict(seen) or None, show_progress=False)
        p *= float(q.values[q.state_names[n].index(s)])
        seen[n] = s
    return post, p


def _diff(ours, theirs) -> tuple[float, float]:
    post, pe = ours
    tpost, tpe = theirs
    md = max((post[n] - torch.as_tensor(tpost[n], dtype=torch.float64)).abs().max().item() for n in tpost)
    return md, abs(pe - tpe) / tpe


def exact_table(names, patterns: int, pgmpy_patterns: int, repeats: int) -> list[str]:
    rows = [
        "| network | nodes | patterns | max abs diff vs pyAgrum | P(e) rel. diff vs pyAgrum "
        "| max abs diff vs pgmpy | P(e) rel. diff vs pgmpy | probgen ms | pyAgrum ms | pgmpy ms "
        "| probgen / pyAgrum |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        rows.append(_exact_row(name, patterns, pgmpy_patterns, repeats))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _exact_row(name, patterns, pgmpy_patterns, repeats) -> str:
    bn = load_network(name)
    compiled(bn)  # probgen's set-up: elimination order
    exact.posterior(bn)  # and the single-row plan
    _g, ie = to_pyagrum(bn)
    _model, ve = to_pgmpy(bn)
    evs = evidence_patterns(bn, patterns, seed=len(name))
    t_ours, t_agrum, t_pgmpy = [], [], []
    d_agrum = p_agrum = d_pgmpy = p_pgmpy = 0.0
    for i, ev in enumerate(evs):
        for _ in range(repeats):  # interleaved: probgen, pyAgrum, probgen, pyAgrum, ...
            t, ours = _timed(lambda ev=ev: ours_query(bn, ev))
            t_ours.append(t)
            t, theirs = _timed(lambda ev=ev: agrum_query(ie, bn, ev))
            t_agrum.append(t)
        md, rd = _diff(ours, theirs)
        d_agrum, p_agrum = max(d_agrum, md), max(p_agrum, rd)
        if i < pgmpy_patterns:
            t, theirs = _timed(lambda ev=ev: pgmpy_query(ve, bn, ev))
            t_pgmpy.append(t)
            md, rd = _diff(ours, theirs)
            d_pgmpy, p_pgmpy = max(d_pgmpy, md), max(p_pgmpy, rd)
    mo, ma = statistics.median(t_ours) * 1e3, statistics.median(t_agrum) * 1e3
    mp = f"{statistics.median(t_pgmpy) * 1e3:.0f}" if t_pgmpy else "-"
    return (
        f"| {name} | {len(bn.nodes)} | {len(evs)} | {d_agrum:.1e} | {p_agrum:.1e} | {d_pgmpy:.1e} "
        f"| {p_pgmpy:.1e} | {mo:.2f} | {ma:.2f} | {mp} | {mo / ma:.2f} |"
    )


def batched_table(n_rows: int, subset: int, repeats: int) -> list[str]:
    bn = load_network("alarm")
    _g, ie = to_pyagrum(bn)
    gen = torch.Generator().manual_seed(0)
    sample = bn.sample(n_rows, generator=gen)
    fixed = [bn.nodes[int(i)] for i in torch.randperm(len(bn.nodes), generator=gen)[:5]]
    cases = {"5 fixed observed nodes": {n: sample[n] for n in fixed}}
    scattered = {}
    for n in bn.nodes:  # each row observes ~3 random nodes (-1 elsewhere)
        seen = torch.rand(n_rows, generator=gen) < 3 / len(bn.nodes)
        scattered[n] = torch.where(seen, sample[n], torch.full_like(sample[n], -1))
    cases["~3 random observed nodes per row"] = scattered
    rows = [
        f"| alarm, {n_rows:,} rows | distinct rows | probgen first call s | probgen s | pyAgrum row by row s "
        "(scaled) | speed-up | max abs diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, ev in cases.items():
        distinct = len({tuple(r) for r in torch.stack(list(ev.values()), 1).tolist()})
        compiled(bn).clear_plans()
        cold, _ = _timed(lambda ev=ev: exact.posterior(bn, ev, targets=bn.nodes))
        warm = min(_timed(lambda ev=ev: exact.posterior(bn, ev, targets=bn.nodes))[0] for _ in range(repeats))
        post = exact.posterior(bn, ev, targets=bn.nodes)
        t0 = time.perf_counter()
        md = 0.0
        for b in range(subset):
            row = {n: str(bn.states(n)[int(v[b])]) for n, v in ev.items() if v[b] >= 0}
            theirs, _ = agrum_query(ie, bn, row)
            md = max(md, max((post[n][b] - torch.as_tensor(theirs[n])).abs().max().item() for n in theirs))
        agrum = (time.perf_counter() - t0) * n_rows / subset
        cells = [
            label,
            f"{distinct:,}",
            f"{cold:.3f}",
            f"{warm:.3f}",
            f"{agrum:.2f}",
            f"{agrum / warm:.0f}x",
            f"{md:.1e}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def sampling_table(n_ours: int, n_pgmpy: int, repeats: int) -> list[str]:
    bn = load_network("alarm")
    model, _ = to_pgmpy(bn)
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(_timed(lambda: bn.sample(n_ours))[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.append(_timed(lambda: model.simulate(n_pgmpy, show_progress=False, seed=0))[0])
    o, t = min(ours), min(theirs)
    per_m = t * 1e6 / n_pgmpy
    return [
        f"| alarm forward sampling | rows | seconds (best of {repeats}) | seconds per million rows |",
        "| --- | ---: | ---: | ---: |",
        f"| probgen `bn.sample` | {n_ours:,} | {o:.3f} | {o * 1e6 / n_ours:.3f} |",
        f"| pgmpy `simulate` | {n_pgmpy:,} | {t:.3f} | {per_m:.2f} |",
        f"| ratio pgmpy / probgen (per row) | | | {per_m / (o * 1e6 / n_ours):.0f}x |",
    ]


def parsing_table(repeats: int) -> list[str]:
    gum = _quiet_imports()
    from pgmpy.readwrite import BIFReader

    path = network_path("alarm")
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "alarm.bif"
        plain.write_text(text)
        times = {"probgen `read_bif`": [], "pgmpy `BIFReader(...).get_model()`": [], "pyAgrum `loadBN`": []}
        for _ in range(repeats):
            times["probgen `read_bif`"].append(_timed(lambda: read_bif(plain))[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                times["pgmpy `BIFReader(...).get_model()`"].append(
                    _timed(lambda: BIFReader(str(plain)).get_model())[0]
                )
            times["pyAgrum `loadBN`"].append(_timed(lambda: gum.loadBN(str(plain)))[0])
    ours = min(times["probgen `read_bif`"])
    rows = [f"| parse alarm.bif (best of {repeats}) | ms | / probgen |", "| --- | ---: | ---: |"]
    for label, ts in times.items():
        rows.append(f"| {label} | {min(ts) * 1e3:.1f} | {min(ts) / ours:.1f}x |")
    return rows


def all_networks_table() -> list[str]:
    rows = [
        "| network | nodes | load s | compile s | largest clique (entries) | first query s | query s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in list_networks():
        t_load, bn = _timed(lambda name=name: load_network(name))
        t_comp, net = _timed(lambda bn=bn: compiled(bn))
        ev = evidence_patterns(bn, 1, seed=1)[0]
        first, _ = _timed(lambda bn=bn, ev=ev: exact.posterior(bn, ev))
        again, _ = _timed(lambda bn=bn, ev=ev: exact.posterior(bn, ev))
        rows.append(
            f"| {name} | {len(bn.nodes)} | {t_load:.2f} | {t_comp:.2f} | {net.largest:.3g} | {first:.3f} "
            f"| {again:.3f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="alarm only, few patterns (a smoke test)")
    parser.add_argument("--all", action="store_true", help="also exact inference on every bundled network")
    parser.add_argument("--threads", type=int, default=2, help="torch and pyAgrum threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    _quiet_imports().setNumberOfThreads(args.threads)
    q = args.quick
    tables = [
        exact_table(
            ["alarm"] if q else NETWORKS,
            patterns=2 if q else 20,
            pgmpy_patterns=1 if q else 3,
            repeats=1 if q else 3,
        ),
        batched_table(n_rows=200 if q else 10_000, subset=10 if q else 300, repeats=1 if q else 3),
        sampling_table(
            n_ours=10_000 if q else 1_000_000, n_pgmpy=200 if q else 100_000, repeats=1 if q else 3
        ),
        parsing_table(repeats=1 if q else 5),
    ]
    if args.all and not q:
        tables.append(all_networks_table())
    print(
        f"\nprobgen Bayesian-network benchmark ({'quick' if q else 'full'}), torch threads {args.threads}\n"
    )
    for rows in tables:
        print("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
