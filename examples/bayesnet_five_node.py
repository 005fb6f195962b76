"""The five-node Bayesian network: P(X1) P(X2 | X1) P(X3) P(X4 | X2, X3) P(X5 | X3).

A network is a graph (qualitative: which variable depends on which) plus one conditional per node
(quantitative: here, tables). This script declares the lecture's five-node example as a networkx DAG,
prints the factorisation it implies, compiles it into a Pyro program (one ``pyro.sample`` per node, in
topological order) and checks three things: the Pyro program's dependencies are the DAG's edges, the
joint of a row is the product of its table entries, and forward samples reproduce the joint table.
Figure: ``five_node.png`` (the DAG, and sampled vs exact joint probabilities of all 48 assignments).

    python examples/bayesnet_five_node.py --num-samples 200000
"""

import argparse
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import pyro
import torch
from pyro.infer.inspect import get_dependencies

from probgen.bayesnet import BayesNet, TabularCPD
from probgen.plot import save_figure

SMOKE_ARGS = ["--num-samples", "2000", "--out", "{out}"]


def five_node() -> BayesNet:
    g = nx.DiGraph([("X1", "X2"), ("X2", "X4"), ("X3", "X4"), ("X3", "X5")])
    g.nodes["X1"]["cpd"] = TabularCPD([0, 1], [0.3, 0.7])
    g.nodes["X2"]["cpd"] = TabularCPD([0, 1], [[0.9, 0.1], [0.25, 0.75]], parents=["X1"])
    g.nodes["X3"]["cpd"] = TabularCPD(["a", "b", "c"], [0.5, 0.3, 0.2])
    g.nodes["X4"]["cpd"] = TabularCPD([0, 1], [[0.99, 0.01], [0.6, 0.4], [0.5, 0.5],  # X2 = 0; X3 = a, b, c
                                               [0.3, 0.7], [0.2, 0.8], [0.05, 0.95]],  # X2 = 1
                                      parents=["X2", "X3"])
    g.nodes["X5"]["cpd"] = TabularCPD([0, 1], [[0.7, 0.3], [0.4, 0.6], [0.1, 0.9]], parents=["X3"])
    return BayesNet(g)


def main(args):
    pyro.set_rng_seed(args.seed)
    bn = five_node()
    terms = [f"P({n} | {', '.join(bn.parents(n))})" if bn.parents(n) else f"P({n})" for n in bn.nodes]
    print(f"{bn}\nP({', '.join(bn.nodes)}) = {' '.join(terms)}")

    deps = get_dependencies(bn.model)["prior_dependencies"]
    for n in bn.nodes:
        print(f"  Pyro site {n!r} depends on {sorted(set(deps[n]) - {n}) or 'nothing'}")
        assert set(deps[n]) - {n} == set(bn.parents(n))

    rows = list(itertools.product(*(range(bn.card(n)) for n in bn.nodes)))  # all 2*2*3*2*2 = 48 rows
    data = {n: torch.tensor([r[i] for r in rows]) for i, n in enumerate(bn.nodes)}
    exact = bn.log_prob(data).exp()  # (48,)
    print(f"sum of the joint over all {len(rows)} assignments: {exact.sum().item():.12f}")
    x = dict(zip(bn.nodes, rows[-1]))
    product = 1.0
    for n in bn.nodes:
        product *= bn.cpt(n)[tuple(x[p] for p in bn.parents(n)) + (x[n],)].item()
    print(f"P({x}) = {exact[-1].item():.6f} = product of its five table entries {product:.6f}")

    s = bn.sample(args.num_samples)
    flat = torch.zeros(args.num_samples, dtype=torch.int64)
    for n in bn.nodes:
        flat = flat * bn.card(n) + s[n]
    freq = torch.bincount(flat, minlength=len(rows)).double() / args.num_samples
    se = (exact * (1 - exact) / args.num_samples).sqrt()
    print(f"{args.num_samples} samples: max |frequency - P| = {(freq - exact).abs().max():.5f}, "
          f"max in standard errors {((freq - exact).abs() / se).max():.2f}")

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    bn.draw(a, title="P(X1) P(X2|X1) P(X3) P(X4|X2,X3) P(X5|X3)")
    b.scatter(exact, freq, s=12)
    b.plot([0, exact.max()], [0, exact.max()], color="grey", lw=0.8)
    b.set(xlabel="exact joint probability", ylabel="sample frequency",
          title=f"{args.num_samples:,} forward samples, 48 assignments")
    print(f"figure: {save_figure(fig, Path(args.out) / 'five_node.png')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bayesnet_five_node")
    main(parser.parse_args())
