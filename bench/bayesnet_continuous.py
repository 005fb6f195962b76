"""Continuous Bayesian networks: exact Gaussian inference against a dense oracle and pgmpy; likelihood
weighting against exact CLG inference. Everything is measured in one run, interleaved.

Tables (Markdown):

1. One query at a time, on ecoli70, magic-niab, magic-irri and arth150: random evidence on 10% of the
   nodes (values from forward samples), all other nodes queried. Largest normwise relative difference
   (``max |ours - oracle| / max |oracle|``) of the posterior means, the posterior covariance and log p(e)
   against a dense multivariate-normal oracle written here independently (NumPy: the JSON file read with
   ``json``, ``(I - B)`` solved densely, conditioning by ``np.linalg.solve`` on the full covariance), for
   probgen's information and moment forms and for pgmpy's
   ``LinearGaussianBayesianNetwork.predict_probability`` (pgmpy 1.1.2 rounds its joint covariance to 8
   decimals). Median time per query of each; the oracle's dense joint is built before timing.
2. 10,000 evidence rows in one call (same 10% observed set, values from forward samples): time of probgen
   (both forms), the NumPy oracle (batched) and pgmpy's ``predict_probability`` on a 10,000-row DataFrame,
   with the largest relative difference of the means against the oracle.
3. Likelihood weighting on a small CLG network (2 discrete and 3 continuous nodes, evidence on the last
   one): root-mean-square error of P(d) and E[x] against the exact CLG answer over 200 independent runs,
   for growing numbers of samples; ``rmse * sqrt(n)`` stays flat when the error falls as 1/sqrt(n).

    python bench/bayesnet_continuous.py            # the tables in docs/benchmarks.md (about a minute)
    python bench/bayesnet_continuous.py --quick    # ecoli70 only, small sizes: a smoke test (seconds)

NumPy's BLAS threads follow ``OMP_NUM_THREADS`` (set to 1 here unless already set); torch's follow
``--threads`` (default 1).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy is imported: one BLAS thread, like torch's

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from probgen.bayesnet import load_network  # noqa: E402
from probgen.bayesnet.hybrid import (  # noqa: E402
    clg_posterior,
    gaussian_posterior,
    likelihood_weighting,
    load_gaussian_network,
)
from probgen.bayesnet.hybrid.examples import clg_example  # noqa: E402
from probgen.bayesnet.io.gaussian_json import DATA  # noqa: E402

NETWORKS = ["ecoli70", "magic-niab", "magic-irri", "arth150"]


# ------------------------------------------------------------------------------------- dense oracle
class DenseOracle:
    """The joint Gaussian of a pgmpy JSON network, built with NumPy from the file itself."""

    def __init__(self, name: str):
        data = json.loads((DATA / f"{name}.json").read_text())
        self.nodes = list(data["nodes"])
        ix = {n: i for i, n in enumerate(self.nodes)}
        n = len(self.nodes)
        b_mat, bias, var = np.zeros((n, n)), np.zeros(n), np.zeros(n)
        for node, cpd in data["cpds"].items():
            i = ix[node]
            bias[i], var[i] = cpd["coefficients"]["(Intercept)"][0], cpd["variance"][0]
            for p in cpd["parents"]:
                b_mat[i, ix[p]] = cpd["coefficients"][p][0]
        a = np.linalg.solve(np.eye(n) - b_mat, np.eye(n))  # (I - B)^-1, dense
        self.mean = a @ bias
        self.cov = a @ np.diag(var) @ a.T

    def condition(self, obs: list[str], x: np.ndarray):
        """(hidden nodes, means (N, h), covariance (h, h), log p(x_E) (N,)) for rows x (N, e)."""
        o = [self.nodes.index(n) for n in obs]
        h = [i for i in range(len(self.nodes)) if i not in o]
        s_ee, s_he = self.cov[np.ix_(o, o)], self.cov[np.ix_(h, o)]
        diff = x - self.mean[o]
        means = self.mean[h] + np.linalg.solve(s_ee, diff.T).T @ s_he.T
        cov = self.cov[np.ix_(h, h)] - s_he @ np.linalg.solve(s_ee, s_he.T)
        _, logdet = np.linalg.slogdet(s_ee)
        quad = np.einsum("ne,ne->n", diff, np.linalg.solve(s_ee, diff.T).T)
        log_ev = -0.5 * (quad + logdet + len(o) * math.log(2 * math.pi))
        return [self.nodes[i] for i in h], means, cov, log_ev


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _pgmpy_model(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgmpy warns on import about optional extras
        from pgmpy.models import LinearGaussianBayesianNetwork
    return LinearGaussianBayesianNetwork.load(str(DATA / f"{name}.json"))


def _pgmpy_query(model, obs: list[str], x: np.ndarray):
    import pandas as pd

    names, means, cov = model.predict_probability(pd.DataFrame(x, columns=obs))
    return list(names), np.asarray(means), np.asarray(cov)


def _evidence(net, k_obs: int, n_rows: int, seed: int) -> tuple[list[str], np.ndarray]:
    """k_obs random nodes (topological order) and n_rows forward-sampled values for them."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    obs = [net.nodes[i] for i in sorted(rng.choice(len(net.nodes), k_obs, replace=False))]
    sample = net.sample(n_rows)
    return obs, np.stack([sample[n].numpy() for n in obs], -1)


def _align(names_from, values, names_to, axes=(1,)):
    """Reorder the node axes of ``values`` from ``names_from`` to ``names_to``."""
    ix = [names_from.index(n) for n in names_to]
    for ax in axes:
        values = np.take(values, ix, axis=ax)
    return values


def _ours(net, obs, x, form):
    post = gaussian_posterior(net, {n: torch.from_numpy(x[:, k]) for k, n in enumerate(obs)}, form=form)
    return post.nodes, post.mean.numpy(), post.covariance.numpy(), post.log_evidence.numpy()


def _bayesnet(bn, obs, x):
    """The user-facing call: ``BayesNet.posterior`` (method choice, one Normal per node) on the same rows."""
    rows = x.shape[0] > 1
    ev = {n: torch.from_numpy(x[:, k]) if rows else float(x[0, k]) for k, n in enumerate(obs)}
    post = bn.posterior(ev)
    res = post.details  # the GaussianPosterior behind the Normals
    assert post.method == "exact"
    mean = res.mean.numpy() if rows else res.mean.numpy()[None]
    return res.nodes, mean, res.covariance.numpy(), np.atleast_1d(res.log_evidence.numpy())


def _runs(net, oracle, model, obs, x, bn) -> dict:
    """The five ways of answering one evidence batch, as callables (run in turn, interleaved)."""
    return {
        "bayesnet": lambda: _bayesnet(bn, obs, x),
        "information": lambda: _ours(net, obs, x, "information"),
        "moment": lambda: _ours(net, obs, x, "moment"),
        "oracle": lambda: oracle.condition(obs, x),
        "pgmpy": lambda: _pgmpy_query(model, obs, x),
    }


# --------------------------------------------------------------------------------------------- tables
def single_query_table(names, patterns: int, repeats: int) -> list[str]:
    rows = [
        "| network | nodes | observed | probgen info: mean / cov / log p(e) rel. diff | probgen moment: "
        "mean / cov / log p(e) | pgmpy: mean / cov | `bn.posterior` ms | probgen info ms | probgen "
        "moment ms | oracle ms | pgmpy ms |",
        "| --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        net, oracle, model = load_gaussian_network(name), DenseOracle(name), _pgmpy_model(name)
        k = max(1, round(0.1 * len(net.nodes)))
        errs = {m: [0.0, 0.0, 0.0] for m in ("bayesnet", "information", "moment", "pgmpy")}
        times = {m: [] for m in ("bayesnet", "information", "moment", "oracle", "pgmpy")}
        bn = load_network(name)
        for pat in range(patterns):
            obs, x = _evidence(net, k, 1, seed=pat)
            runs = _runs(net, oracle, model, obs, x, bn)
            out = {}
            for _ in range(repeats):  # interleaved: every method once per round
                for m, fn in runs.items():
                    t, out[m] = _timed(fn)
                    times[m].append(t)
            hid, mean, cov, log_ev = out["oracle"]
            for m in ("bayesnet", "information", "moment", "pgmpy"):
                names_m, mean_m, cov_m = out[m][:3]
                e = errs[m]
                e[0] = max(e[0], _rel(_align(names_m, mean_m, hid), mean))
                e[1] = max(e[1], _rel(_align(names_m, cov_m, hid, (0, 1)), cov))
                if m != "pgmpy":
                    e[2] = max(e[2], _rel(out[m][3], log_ev))
        ms = {m: 1e3 * statistics.median(t) for m, t in times.items()}
        cells = [name, str(len(net.nodes)), str(k),
                 " / ".join(f"{v:.1e}" for v in errs["information"]),
                 " / ".join(f"{v:.1e}" for v in errs["moment"]),
                 " / ".join(f"{v:.1e}" for v in errs["pgmpy"][:2]),
                 *(f"{ms[m]:.2f}" for m in ("bayesnet", "information", "moment", "oracle", "pgmpy"))]
        assert max(errs["bayesnet"]) < 1e-8, f"{name}: BayesNet.posterior differs from the oracle"
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def batched_table(names, n_rows: int, repeats: int) -> list[str]:
    rows = [
        f"| network, {n_rows:,} rows in one call | `bn.posterior` s | probgen info s | probgen moment s | "
        "oracle (NumPy, batched) s | pgmpy `predict_probability` s | max mean rel. diff (bn / info / moment "
        "/ pgmpy) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in names:
        net, oracle, model = load_gaussian_network(name), DenseOracle(name), _pgmpy_model(name)
        obs, x = _evidence(net, max(1, round(0.1 * len(net.nodes))), n_rows, seed=100)
        runs = _runs(net, oracle, model, obs, x, load_network(name))
        times = {m: [] for m in runs}
        out = {}
        for _ in range(repeats):
            for m, fn in runs.items():
                t, out[m] = _timed(fn)
                times[m].append(t)
        hid, mean = out["oracle"][0], out["oracle"][1]
        diffs = [_rel(_align(out[m][0], out[m][1], hid), mean)
                 for m in ("bayesnet", "information", "moment", "pgmpy")]
        best = {m: min(t) for m, t in times.items()}
        cells = [name, *(f"{best[m]:.3f}" for m in ("bayesnet", "information", "moment", "oracle", "pgmpy")),
                 " / ".join(f"{d:.1e}" for d in diffs)]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def lw_table(sizes, reps: int) -> list[str]:
    net = clg_example()
    exact = clg_posterior(net, {"z": 1.3})
    ev = {"z": torch.full((reps,), 1.3, dtype=torch.float64)}
    rows = [
        f"| LW samples n | RMSE of P(d=a) | RMSE of E[x] | RMSE * sqrt(n) (both) | mean ESS | s per run "
        f"({reps} runs batched) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    torch.manual_seed(0)
    for n in sizes:
        t, lw = _timed(lambda n=n: likelihood_weighting(net, ev, num_samples=n))
        rd = float(((lw.discrete["d"][:, 0] - exact.probs("d")[0]) ** 2).mean().sqrt())
        rx = float(((lw.mean["x"] - exact.mean("x")) ** 2).mean().sqrt())
        cells = [f"{n:,}", f"{rd:.4f}", f"{rx:.4f}", f"{rd * math.sqrt(n):.2f} / {rx * math.sqrt(n):.2f}",
                 f"{lw.ess.mean().item():,.0f}", f"{t / reps:.4f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="ecoli70 only, small sizes (a smoke test)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    q = args.quick
    names = ["ecoli70"] if q else NETWORKS
    tables = [
        single_query_table(names, patterns=2 if q else 20, repeats=1 if q else 3),
        batched_table(names, n_rows=200 if q else 10_000, repeats=1 if q else 3),
        lw_table([100, 1000] if q else [100, 1_000, 10_000, 100_000], reps=20 if q else 200),
    ]
    print(f"\nprobgen continuous Bayesian-network benchmark ({'quick' if q else 'full'}), torch threads "
          f"{args.threads}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}\n")
    for rows in tables:
        print("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
