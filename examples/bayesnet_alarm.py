"""A walk-through of the ALARM network (37 nodes, 46 edges): read, query, sample and learn it back.

ALARM (Beinlich et al., 1989) monitors patients in intensive care. The script reads the bundled BIF file,
draws the DAG, diagnoses a patient from three measurements (exact posteriors and the most probable
explanation), then plays the monitor for a whole ward at once: it simulates ``--patients`` patients,
hides everything but a few measurements, and infers the hidden causes of all of them in one batched call.
Finally it treats the network as unknown: it learns the tables for the known graph, and the graph itself
by hill climbing with BIC (model selection), from ``--train`` simulated records.
Figures: ``alarm_dag.png`` and ``alarm_learned.png`` (learned edges: right, reversed, extra; missed dashed).

    python examples/bayesnet_alarm.py --patients 10000 --train 10000
    python examples/bayesnet_alarm.py --compare-pgmpy   # also time pgmpy on the same work
"""

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import pyro
import torch

from probgen.bayesnet import fit_parameters, hill_climb, read_bif, score
from probgen.bayesnet.draw import layered_positions
from probgen.bayesnet.io.bundled import network_path
from probgen.plot import save_figure

SMOKE_ARGS = ["--patients", "200", "--train", "1000", "--samples", "10000", "--out", "{out}"]
MEASURED = ["HRBP", "BP", "CVP", "SAO2", "EXPCO2", "PRESS"]  # what the monitor shows
CAUSES = ["HYPOVOLEMIA", "LVFAILURE", "INTUBATION", "KINKEDTUBE", "PULMEMBOLUS", "ANAPHYLAXIS"]


def timed(f, *a, repeat: int = 1, **k):
    """(result, seconds): the best wall-clock time of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a, **k)
        best = min(best, time.perf_counter() - t)
    return out, best


def diagnose(bn):
    evidence = {"HRBP": "HIGH", "BP": "LOW", "CVP": "HIGH"}
    post = bn.posterior(evidence, CAUSES)
    prior = bn.posterior(None, CAUSES)
    print(f"\none patient with {evidence}:")
    for c in CAUSES:
        k = 0  # the first state of each cause is its abnormal one (TRUE, ESOPHAGEAL, ...)
        print(f"  P({c}={bn.states(c)[k]}) {prior[c][k].item():.4f} -> {post[c][k].item():.4f}")
    mpe = bn.map(evidence)
    print(f"  most probable explanation: { {c: mpe[c] for c in CAUSES} }")


def ward(bn, n):
    truth = bn.sample(n)
    evidence = {m: truth[m] for m in MEASURED}  # int64 (n,) per measured node
    post, secs = timed(bn.posterior, evidence, CAUSES)  # dict cause -> (n, card)
    print(f"\n{n} patients, {len(MEASURED)} measurements each: posteriors of {len(CAUSES)} causes for all "
          f"of them in {secs:.3f} s (one batched call)")
    for c in CAUSES:
        guess = post[c].argmax(-1)
        base = torch.bincount(truth[c], minlength=bn.card(c)).max().item() / n
        print(f"  {c:12s} accuracy {(guess == truth[c]).double().mean().item():.3f} "
              f"(always guessing the commonest state: {base:.3f})")


def learn(bn, n, out):
    data = bn.sample(n)
    states = {v: bn.states(v) for v in bn.nodes}
    test = bn.sample(20_000)
    truth = bn.log_prob(test)  # (20000,)

    def kl(learned) -> float:  # KL(true || learned), estimated on fresh records
        return (truth - learned.log_prob(test)).mean().item()

    tables = fit_parameters(bn, data, prior="bdeu", equivalent_sample_size=1)
    print(f"\nfrom {n} records: tables for the true graph (BDeu, ESS 1): KL(true || learned) = "
          f"{kl(tables):.4f} nats (on 20,000 fresh records)")
    g, secs = timed(hill_climb, data, states=states)
    both = fit_parameters(g, data, states=states, prior="bdeu", equivalent_sample_size=1)
    true, got = set(bn.graph.edges), set(g.edges)
    reversed_ = {(u, v) for u, v in got if (v, u) in true}
    extra = got - true - reversed_
    missed = {(u, v) for u, v in true if (u, v) not in got and (v, u) not in got}
    print(f"structure learned by hill climbing (BIC) in {secs:.1f} s: {len(got & true)} edges right, "
          f"{len(reversed_)} reversed, {len(extra)} extra, {len(missed)} missed of {len(true)}; "
          f"KL(true || learned graph and tables) = {kl(both):.4f} nats")
    fig, ax = plt.subplots(figsize=(12, 10))
    pos = layered_positions(bn.graph)
    for edges, colour, style in ((got & true, "#2a9d8f", "-"), (reversed_, "#e9c46a", "-"),
                                 (extra, "#e63946", "-"), (missed, "#999999", "--")):
        nx.draw_networkx_edges(nx.DiGraph(list(edges)), pos, ax=ax, edge_color=colour, style=style,
                               arrows=True, arrowsize=10, node_size=700)
    nx.draw_networkx_labels(bn.graph, pos, ax=ax, font_size=7,
                            bbox={"boxstyle": "round,pad=0.3", "fc": "#a8dadc", "ec": "#1d3557"})
    ax.set_title(f"learned from {n} records: green right, yellow reversed, red extra, dashed missed")
    ax.set_axis_off()
    save_figure(fig, out / "alarm_learned.png")
    return data


def compare_pgmpy(bn, data, n_samples):
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.estimators import BIC, HillClimbSearch
        from pgmpy.readwrite import BIFReader
        from pgmpy.sampling import BayesianModelSampling
    text = network_path("alarm").read_text()
    model, t_read = timed(lambda: BIFReader(string=text).get_model())
    _, t_ours = timed(read_bif, text, repeat=5)
    print(f"\nBIF parse of alarm: probgen {t_ours * 1e3:.1f} ms (best of 5), pgmpy {t_read * 1e3:.0f} ms")
    _, t_sim = timed(BayesianModelSampling(model).forward_sample, size=n_samples, show_progress=False)
    _, t_own = timed(bn.sample, n_samples, repeat=3)
    print(f"{n_samples} forward samples: probgen {t_own:.3f} s (best of 3), pgmpy {t_sim:.2f} s")
    frame = pd.DataFrame({v: [bn.states(v)[i] for i in data[v].tolist()] for v in bn.nodes})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HillClimbSearch moves to pgmpy.causal_discovery in 1.3
        search = HillClimbSearch(frame)
        g, t_pg = timed(lambda: search.estimate(scoring_method=BIC(frame), show_progress=False))
    ours, t_hc = timed(hill_climb, frame)
    theirs = nx.DiGraph(list(g.edges()))
    theirs.add_nodes_from(bn.nodes)
    print(f"hill climbing on {len(frame)} records: probgen {t_hc:.1f} s (BIC {score(ours, frame):.1f}), "
          f"pgmpy {t_pg:.1f} s (BIC {score(theirs, frame):.1f})")


def main(args):
    pyro.set_rng_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    bn, secs = timed(read_bif, network_path("alarm"), repeat=5)
    print(f"{bn}\nread in {secs * 1e3:.1f} ms (best of 5)")
    ax = bn.draw(highlight=MEASURED, title="ALARM (measurements in orange)")
    save_figure(ax.figure, out / "alarm_dag.png")
    _, secs = timed(bn.sample, args.samples, repeat=3)
    print(f"{args.samples} forward samples in {secs:.3f} s (best of 3, {torch.get_num_threads()} thread(s))")
    diagnose(bn)
    ward(bn, args.patients)
    data = learn(bn, args.train, out)
    if args.compare_pgmpy:
        compare_pgmpy(bn, data, min(args.samples, 100_000))
    print(f"\nfigures in {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="rows of batched inference")
    parser.add_argument("--train", type=int, default=10_000, help="records to learn from")
    parser.add_argument("--samples", type=int, default=1_000_000, help="forward samples to time")
    parser.add_argument("--compare-pgmpy", action="store_true", help="time pgmpy on the same work")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bayesnet_alarm")
    main(parser.parse_args())
