"""Learning Bayesian networks from data, against pgmpy measured in the same run.

Tables (Markdown):

1. Maximum likelihood from a DataFrame of state names (category columns, and object columns of str),
   100,000 alarm rows: ``bn.fit`` against pgmpy's ``MaximumLikelihoodEstimator``, interleaved, best of
   several; the largest difference of any CPT entry.
2. Hill climbing with BIC, 10,000 alarm rows, 5 sampling seeds, max in-degree 4: ``learn_structure``
   ("hill-climb" and "tabu", 10 random restarts each) against pgmpy's ``HillClimbSearch`` ("bic-d"):
   final BIC (probgen's ``score``, equal to pgmpy's ``BIC`` to 1e-10), SHD to the true graph (DAGs, and
   their CPDAGs), time.
3. PC with the chi-square test at significance 0.01, 50,000 rows of alarm and child: ``pc`` against
   pgmpy's ``PC(...).estimate(ci_test="chi_square", return_type="cpdag")`` (its default "parallel"
   variant, joblib on every core): SHD of the CPDAGs to the true CPDAG, time.
4. EM, 10,000 alarm rows with 20% of the cells missing at random: mean total-variation distance of the
   learned CPT rows to the true ones, for EM, for maximum likelihood on the complete rows only, and with
   no cell missing (maximum likelihood and BDeu); time per EM iteration.
5. A latent class: naive Bayes with a hidden class (3 states) and 6 observed children (3 states), 20,000
   rows: EM's tables against the true ones up to relabelling (largest and mean row TV).

    python bench/bayesnet_learning.py            # the tables in docs/benchmarks.md (pgmpy's PC: minutes)
    python bench/bayesnet_learning.py --quick    # small networks and data: a smoke test (under a minute)
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
import time
import warnings

os.environ.setdefault("PYTHONWARNINGS", "ignore")  # pgmpy's deprecation notices, also in joblib workers

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

import probgen  # noqa: E402
from probgen.bayesnet import BayesNet, TabularCPD  # noqa: E402
from probgen.bayesnet.io.bundled import load_network  # noqa: E402
from probgen.bayesnet.learn import dag_to_cpdag, learn_structure, pc, score, shd  # noqa: E402


def _pgmpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        from pgmpy import estimators
        from pgmpy.models import DiscreteBayesianNetwork
    return estimators, DiscreteBayesianNetwork


def _frame(bn, samples, kind="category") -> pd.DataFrame:
    """Columns of state names (sorted by name: pgmpy's results depend on the column order)."""
    cols = {}
    for n in sorted(bn.nodes):
        names = [str(s) for s in bn.states(n)]
        codes = samples[n].numpy()
        cols[n] = pd.Categorical.from_codes(codes, names) if kind == "category" else \
            np.asarray(names, dtype=object)[codes]
    return pd.DataFrame(cols)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _digraph(nodes, edges) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


# ------------------------------------------------------------------------------------------- 1. MLE
def mle_table(name: str, rows: int, repeat: int) -> None:
    est, dbn = _pgmpy()
    bn = load_network(name)
    probgen.seed(0)
    s = bn.sample(rows)
    model = dbn(bn.edges)
    model.add_nodes_from(bn.nodes)
    print(f"\n### Maximum likelihood, {rows:,} {name} rows\n")
    print("| data | probgen `bn.fit` (s) | pgmpy `MaximumLikelihoodEstimator` (s) | speed-up | "
          "max abs diff |")
    print("| --- | --- | --- | --- | --- |")
    for kind in ("category", "object"):
        frame = _frame(bn, s, kind)
        ours_t, theirs_t, ours, theirs = [], [], None, None
        for _ in range(repeat):  # interleaved
            t, ours = _best(lambda f=frame: bn.fit(f), 1)
            ours_t.append(t)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mle = est.MaximumLikelihoodEstimator
                t, theirs = _best(lambda f=frame, e=mle: e(model, f).get_parameters(), 1)
            theirs_t.append(t)
        diff = max(float((_pgmpy_table(c, ours) - ours.cpt(c.variable)).abs().max()) for c in theirs)
        a, b = min(ours_t), min(theirs_t)
        print(f"| {kind} columns of state names | {a:.4f} | {b:.4f} | {b / a:.1f}x | {diff:.1e} |")


def _pgmpy_table(cpd, ours):
    """pgmpy's (card, *parents) values as our (*parents, card), states in our order."""
    vals = torch.as_tensor(cpd.values)
    for axis, var in enumerate(cpd.variables):
        order = [cpd.state_names[var].index(str(s)) for s in ours.states(var)]
        vals = vals.index_select(axis, torch.tensor(order))
    theirs = cpd.variables[1:]
    return vals.permute(*[1 + theirs.index(p) for p in ours.parents(cpd.variable)], 0)


# ---------------------------------------------------------------------------------- 2. hill climbing
def hill_climb_table(name: str, rows: int, seeds) -> None:
    est, _ = _pgmpy()
    bn = load_network(name)
    truth, truth_cpdag = bn.graph, dag_to_cpdag(bn.graph)
    print(f"\n### Hill climbing with BIC, {rows:,} {name} rows, max in-degree 4\n")
    print("| seed | method | BIC | SHD (DAG) | SHD (CPDAG) | time (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    summary: dict[str, list] = {}
    for seed in seeds:
        probgen.seed(seed)
        frame = _frame(bn, bn.sample(rows), "object")
        runs = {}
        for method in ("hill-climb", "tabu"):
            runs[f"probgen {method}"] = _best(lambda m=method, f=frame: learn_structure(f, m, max_indegree=4),
                                              1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, model = _best(lambda f=frame: est.HillClimbSearch(f).estimate(
                scoring_method="bic-d", max_indegree=4, show_progress=False), 1)
        runs["pgmpy HillClimbSearch"] = (t, _digraph(frame.columns, model.edges()))
        for label, (t, g) in runs.items():
            row = (score(g, frame), shd(g, truth), shd(dag_to_cpdag(g), truth_cpdag), t)
            summary.setdefault(label, []).append(row)
            print(f"| {seed} | {label} | {row[0]:,.1f} | {row[1]} | {row[2]} | {t:.2f} |")
    print("\n| method | mean BIC | mean SHD (DAG) | mean SHD (CPDAG) | mean time (s) | BIC >= pgmpy's |")
    print("| --- | --- | --- | --- | --- | --- |")
    ref = summary["pgmpy HillClimbSearch"]
    for label, rows_ in summary.items():
        mean = np.mean(np.array(rows_), 0)
        wins = sum(r[0] >= p[0] - 1e-6 for r, p in zip(rows_, ref))
        print(f"| {label} | {mean[0]:,.1f} | {mean[1]:.1f} | {mean[2]:.1f} | {mean[3]:.2f} | "
              f"{wins}/{len(rows_)} seeds |")


# ---------------------------------------------------------------------------------------------- 3. PC
def pc_table(names, rows: int, **pgmpy_options) -> None:
    est, _ = _pgmpy()
    print(f"\n### PC (chi-square, significance 0.01), {rows:,} rows\n")
    print("| network | probgen `pc` SHD | time (s) | pgmpy `PC` SHD | time (s) | speed-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        bn = load_network(name)
        probgen.seed(0)
        frame = _frame(bn, bn.sample(rows), "object")
        truth = dag_to_cpdag(_digraph(bn.nodes, [(str(u), str(v)) for u, v in bn.edges]))
        t1, ours = _best(lambda f=frame: pc(f, ci_test="chi-square", significance_level=0.01), 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t2, pdag = _best(lambda f=frame: est.PC(f).estimate(ci_test="chi_square", significance_level=0.01,
                                                                 return_type="cpdag", show_progress=False,
                                                                 **pgmpy_options), 1)
        theirs = _digraph(frame.columns, list(pdag.directed_edges) + list(pdag.undirected_edges)
                          + [(v, u) for u, v in pdag.undirected_edges])
        print(f"| {name} | {shd(ours, truth)} | {t1:.2f} | {shd(theirs, truth)} | {t2:.1f} | "
              f"{t2 / t1:.0f}x |")


# ---------------------------------------------------------------------------------------------- 4. EM
def _tv(fitted: BayesNet, bn: BayesNet) -> float:
    rows = [0.5 * (fitted.cpt(n) - bn.cpt(n)).abs().sum(-1).reshape(-1) for n in bn.nodes]
    return float(torch.cat(rows).mean())


def _row_weights(bn: BayesNet, num_rows: int = 1_000_000) -> dict[str, torch.Tensor]:
    """P(parent configuration) of every CPT row, estimated from ``num_rows`` forward samples."""
    s = bn.sample(num_rows)
    out = {}
    for n in bn.nodes:
        flat = torch.zeros(num_rows, dtype=torch.int64)
        for p in bn.parents(n):
            flat = flat * bn.card(p) + s[p]
        out[n] = torch.bincount(flat, minlength=bn.cpt(n)[..., 0].numel()).double() / num_rows
    return out


def _weighted_tv(fitted: BayesNet, bn: BayesNet, weights) -> float:
    """Mean over nodes of the row TV averaged with the weights P(parent configuration)."""
    per_node = [weights[n] * 0.5 * (fitted.cpt(n) - bn.cpt(n)).abs().sum(-1).reshape(-1) for n in bn.nodes]
    return float(np.mean([float(t.sum()) for t in per_node]))


def em_table(name: str, rows: int, rate: float, weight_rows: int = 1_000_000) -> None:
    bn = load_network(name)
    probgen.seed(0)
    frame = _frame(bn, bn.sample(rows), "category")
    weights = _row_weights(bn, weight_rows)
    gaps = frame.mask(np.random.default_rng(0).random(frame.shape) < rate)
    complete = gaps.dropna()
    print(f"\n### EM, {rows:,} {name} rows, {rate:.0%} of the cells missing at random "
          f"({len(complete)} complete rows)\n")
    print("Mean TV of the CPT rows to the true ones (weighted: each row weighted by the probability of its "
          "parent configuration).\n")
    print("| prior | TV: no cell missing | EM | complete rows only | EM / no cell missing | weighted: no "
          "cell missing | EM | EM / no cell missing | iterations | time per iteration (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for method, prior in (("mle", None), ("bayes", "bdeu")):
        kw = {"method": method, "prior": prior, "equivalent_sample_size": 1.0}
        full = bn.fit(frame, **kw)
        t, em = _best(lambda k=kw: bn.fit(gaps, **k), 1)
        cc = _tv(bn.fit(complete, **kw), bn) if len(complete) else float("nan")
        info = em.fit_info
        label = "none (maximum likelihood)" if prior is None else "BDeu, ESS 1"
        a, b = _tv(full, bn), _tv(em, bn)
        wa, wb = _weighted_tv(full, bn, weights), _weighted_tv(em, bn, weights)
        print(f"| {label} | {a:.4f} | {b:.4f} | {cc:.4f} | {b / a:.3f} | {wa:.5f} | {wb:.5f} | "
              f"{wb / wa:.3f} | {info.iterations} | {t / (info.iterations + 1):.3f} |")


# -------------------------------------------------------------------------------------------- 5. latent
def naive_bayes(k: int = 3, m: int = 6, card: int = 3, seed: int = 0) -> BayesNet:
    gen = torch.Generator().manual_seed(seed)
    g = nx.DiGraph([("H", f"X{i}") for i in range(m)])
    g.nodes["H"]["cpd"] = TabularCPD(list(range(k)), torch.rand(k, generator=gen, dtype=torch.float64) + 0.5,
                                     normalize=True)
    for i in range(m):
        probs = torch.rand(k, card, generator=gen, dtype=torch.float64) ** 3 + 0.02
        g.nodes[f"X{i}"]["cpd"] = TabularCPD([f"s{j}" for j in range(card)], probs, ["H"], normalize=True)
    return BayesNet(g)


def latent_table(rows: int) -> None:
    bn = naive_bayes()
    probgen.seed(0)
    s = bn.sample(rows)
    data = {n: s[n] for n in bn.nodes if n != "H"}
    t, fitted = _best(lambda: bn.fit(data, latent={"H"}, generator=torch.Generator().manual_seed(0)), 1)
    best = None
    for perm in itertools.permutations(range(bn.card("H"))):
        p = list(perm)
        tv = [0.5 * float((fitted.cpt("H")[p] - bn.cpt("H")).abs().sum())]
        for c in bn.children("H"):
            tv += (0.5 * (fitted.cpt(c)[p] - bn.cpt(c)).abs().sum(-1)).tolist()
        if best is None or max(tv) < max(best):
            best = tv
    info = fitted.fit_info
    print(f"\n### Latent class: naive Bayes, hidden class (3 states), 6 children (3 states), {rows:,} rows\n")
    print("| largest row TV (best relabelling) | mean row TV | starts | time (s) |")
    print("| --- | --- | --- | --- |")
    print(f"| {max(best):.4f} | {np.mean(best):.4f} | {len(info.restart_log_likelihoods)} | {t:.2f} |")


def main(args) -> None:
    torch.set_num_threads(1)
    load = os.getloadavg()
    print(f"# Bayesian-network learning: probgen against pgmpy\n\ntorch {torch.__version__}, one torch "
          f"thread; load average {load[0]:.2f} (1 min) before")
    if args.quick:
        mle_table("asia", 20_000, 2)
        hill_climb_table("asia", 2_000, [0])
        pc_table(["asia"], 2_000, n_jobs=1)  # no worker processes to start
        em_table("asia", 2_000, 0.2, 100_000)
        latent_table(2_000)
    else:
        mle_table("alarm", 100_000, 5)
        hill_climb_table("alarm", 10_000, range(5))
        pc_table(["alarm", "child"], 50_000)
        em_table("alarm", 10_000, 0.2)
        latent_table(20_000)
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) after")
    sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small networks and data (a smoke test)")
    main(parser.parse_args())
