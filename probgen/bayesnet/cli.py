"""``probgen bn info|query|map|sample|draw NETWORK``, ``probgen bn fit|learn`` and ``probgen train bn``.

NETWORK is a BIF file (``.bif`` or ``.bif.gz``), a Gaussian network in pgmpy's JSON format (``.json``) or
the name of a bundled network (``asia``, ``alarm``, ``ecoli70``, ..., or any of pgmpy's if it is installed).
Networks with continuous nodes go through ``probgen.bayesnet.cli_hybrid`` (info, query, sample). Evidence is
given as ``NODE=STATE`` words; the state is read by the network's state encoder, as in the Python API (a
state name, or else an index such as ``dysp=1``).

This module imports nothing heavy at import time (``probgen bn --help`` starts without torch): each
command imports what it needs.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from probgen.checks import check_input_file, check_output_file


def load(source: str):
    """A BayesNet from a BIF path or a bundled network's name."""
    from probgen.bayesnet.io.bif import read_bif
    from probgen.bayesnet.io.bundled import load_network

    if Path(source).is_file():
        if source.endswith(".json"):
            from probgen.bayesnet.io.gaussian_json import read_json

            return read_json(Path(source))
        return read_bif(Path(source))
    if Path(source).is_dir():
        raise ValueError(f"{source!r} is a folder; give a .bif/.bif.gz file or a network name such as 'asia'")
    if source.endswith((".bif", ".gz", ".json")) or "/" in source:
        kind = "JSON" if source.endswith(".json") else "BIF"
        raise ValueError(f"no {kind} file at {source!r}; give a .bif/.bif.gz path or a network name "
                         "such as 'asia'")
    return load_network(source)


def input_file(path: str, option: str) -> Path:
    """``path`` as an existing file to read; else a ValueError naming ``option`` (e.g. ``"--data"``)."""
    return check_input_file(option, path)


def output_file(path: str, option: str) -> Path:
    """``path`` checked as a file to write, before any work (``probgen.checks.check_output_file``)."""
    return check_output_file(option, path)


def evidence_from_words(bn, words) -> dict[str, str]:
    """``["A=yes", "B=0"]`` -> ``{"A": "yes", "B": "0"}``, each state checked by the network's encoder
    (so ``"0"`` is the state named "0" if there is one, else index 0, as everywhere in probgen)."""
    from probgen.bayesnet import cli_hybrid

    if cli_hybrid.is_hybrid(bn):
        return cli_hybrid.evidence_from_words(bn, words)
    evidence = {}
    for word in words or []:
        node, sep, value = word.partition("=")
        if not sep or not node or not value:
            raise ValueError(f"evidence {word!r} must look like NODE=STATE (e.g. xray=yes)")
        bn.encoder.code(node, value, "evidence on")  # an unknown node or state fails here, named
        evidence[node] = value
    return evidence


# --------------------------------------------------------------------------------------------- commands
def _info(args) -> int:
    from probgen.bayesnet import cli_hybrid

    bn = load(args.network)
    print(repr(bn))
    if cli_hybrid.is_hybrid(bn):
        if args.node:
            print(f"\n{args.node}: {bn.cpd(args.node)!r}; parents {bn.parents(args.node) or 'none'}")
            return 0
        print(_table(*cli_hybrid.info_rows(bn)))
        return 0
    if args.node:
        cpd = bn.cpd(args.node)
        print(f"\n{args.node}: states {cpd.states}; parents {cpd.parents or 'none'}")
        table = bn.cpt(args.node).reshape(-1, cpd.card)
        configs = _configs(bn, cpd.parents)
        print(_table(["parents"] + [str(s) for s in cpd.states],
                     [[c] + [f"{p:.4g}" for p in row.tolist()] for c, row in zip(configs, table)]))
        return 0
    rows = [[n, str(bn.card(n)), ", ".join(map(str, bn.states(n)))[:60], ", ".join(bn.parents(n)) or "-"]
            for n in bn.nodes]
    print(_table(["node", "card", "states", "parents"], rows))
    return 0


def _configs(bn, parents) -> list[str]:
    import itertools

    if not parents:
        return ["-"]
    return [", ".join(f"{p}={s}" for p, s in zip(parents, c)) for c in itertools.product(
        *(bn.states(p) for p in parents))]


def _query(args) -> int:
    from probgen.bayesnet import cli_hybrid

    bn = load(args.network)
    evidence = evidence_from_words(bn, args.evidence)
    targets = args.target or None
    if cli_hybrid.is_hybrid(bn):
        lines, disc, cont = cli_hybrid.query_lines(bn, evidence, targets, args.approx)
        print("\n".join(lines))
        if disc:
            print(_table(["node", "state", "probability"], disc))
        if cont:
            print(_table(["node", "mean", "sd"], cont))
        return 0
    if args.approx:
        lw = bn.approximate_posterior(evidence, targets, num_samples=args.approx)
        post = lw.marginals
        print(f"likelihood weighting, {args.approx} samples, effective sample size {float(lw.ess):.0f}")
    else:
        post = bn.posterior(evidence, targets)
        if evidence:
            print(f"P({_fmt_evidence(evidence)}) = {float(bn.probability(evidence)):.6g}")
    rows = [[n, str(s), f"{float(p):.6f}"] for n, probs in post.items()
            for s, p in zip(bn.states(n), probs.reshape(-1).tolist())]
    print(_table(["node", "state", "probability"], rows))
    return 0


def _map(args) -> int:
    bn = load(args.network)
    evidence = evidence_from_words(bn, args.evidence)
    assignment, logp = bn.map(evidence, return_log_prob=True)
    print(f"most probable explanation given {_fmt_evidence(evidence) or 'no evidence'}: "
          f"log P(x, e) = {float(logp):.6g}")
    print(_table(["node", "state"], [[n, str(s)] for n, s in assignment.items()]))
    return 0


def _sample(args) -> int:
    from probgen import seed

    bn = load(args.network)
    path = output_file(args.out, "--out") if args.out else None
    seed(args.seed)
    header, rows = _sample_rows(bn, args.num_samples)
    out = _open_output(path, "--out") if path else sys.stdout
    try:
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(rows)
    finally:
        if args.out:
            out.close()
            print(f"wrote {args.num_samples} rows to {args.out}", file=sys.stderr)
    return 0


def _sample_rows(bn, n: int) -> tuple[list[str], list[list]]:
    from probgen.bayesnet import cli_hybrid

    if cli_hybrid.is_hybrid(bn):
        return cli_hybrid.sample_rows(bn, n)
    s = bn.sample(n)
    names = [bn.states(m) for m in bn.nodes]
    cols = [s[m].tolist() for m in bn.nodes]
    return list(bn.nodes), [[names[j][k] for j, k in enumerate(row)] for row in zip(*cols)]


def _draw(args) -> int:
    from probgen.plot import save_figure

    bn = load(args.network)
    path = output_file(args.out, "--out")
    ax = bn.draw(highlight=args.highlight or (), title=args.title)
    print(f"wrote {save_figure(ax.figure, path)}")
    return 0


def _train(args) -> int:
    from probgen.bayesnet.io.bif import write_bif
    from probgen.bayesnet.learn.structure import learn_network

    out = output_file(args.out, "--out")
    data = read_csv(args.data)
    graph = read_graph(args.graph, list(data)) if args.graph else None
    search = {} if graph is not None else {"max_indegree": args.max_indegree, "score": args.score}
    bn = learn_network(data, graph=graph, prior=args.prior, equivalent_sample_size=args.ess, **search)
    print(repr(bn))
    print(_table(["node", "parents"], [[n, ", ".join(bn.parents(n)) or "-"] for n in bn.nodes]))
    print(f"wrote {write_bif(bn, out)}")
    return 0


def _open_output(path: Path, option: str):
    try:
        return open(path, "w", newline="")  # noqa: SIM115 - closed by the caller
    except OSError as e:
        raise ValueError(f"{option} {str(path)!r}: cannot write it ({e.strerror})") from None


def read_csv(path: str, option: str = "--data") -> dict[str, list[str]]:
    """Columns of a CSV file with a header row, as lists of strings."""
    try:
        with open(input_file(path, option), newline="") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"`{option}` {path!r} is not a CSV text file ({e})") from None
    if len(rows) < 2:
        raise ValueError(f"{path}: needs a header row and at least one data row")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise ValueError(f"{path}: line {bad[0]} has a different number of fields than the header")
    return {h: [r[j] for r in body] for j, h in enumerate(header)}


def read_graph(path: str, columns: list[str], option: str = "--graph"):
    """A structure from a BIF file (its edges) or an edge list: one ``A -> B`` (or ``A,B``) per line."""
    import networkx as nx

    input_file(path, option)
    g = nx.DiGraph()
    g.add_nodes_from(columns)
    if path.endswith((".bif", ".bif.gz")):
        g.add_edges_from(load(path).edges)
        return g
    try:
        text = Path(path).read_text()
    except UnicodeDecodeError as e:
        raise ValueError(f"`{option}` {path!r} is not a text file of edges ({e})") from None
    for i, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("->", ",").split(",")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"{path}, line {i}: expected an edge 'A -> B', got {line!r}")
        g.add_edge(*parts)
    return g


def _fmt_evidence(evidence: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in evidence.items())


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


# ----------------------------------------------------------------------------------------- registration
def register(train, top) -> None:
    """``probgen train bn`` and ``probgen bn ...`` (see the module docstring).

    Defaults are shown by the top-level parser's help formatter; the global options (``--quiet``,
    ``--debug``, ``--device``) are added there too.
    """
    t = train.add_parser("bn", help="learn a Bayesian network (structure and tables) from a CSV file",
                         description="Learn a Bayesian network from a CSV file of complete rows: hill "
                         "climbing over structures (unless --graph fixes one), then the tables.")
    t.add_argument("--data", required=True, help="CSV file with a header row (one column per variable)")
    t.add_argument("--graph", help="fixed structure: a .bif file or an edge list (A -> B per line)")
    t.add_argument("--out", default="learned.bif", help="where to write the learned network (BIF)")
    t.add_argument("--score", default="bic", choices=["bic", "bdeu"], help="structure score")
    t.add_argument("--max-indegree", type=int, default=None, help="most parents per node; none: no limit")
    t.add_argument("--prior", default="bdeu", choices=["mle", "bdeu", "k2"],
                   help="table estimate: maximum likelihood, BDeu or K2 pseudo-counts")
    t.add_argument("--ess", type=float, default=10.0, help="BDeu equivalent sample size")
    t.set_defaults(func=_train)

    bn = top.add_parser("bn", help="Bayesian networks: inspect, query, sample and draw BIF files",
                        description="Inspect, query, sample and draw a Bayesian network: a .bif/.bif.gz "
                        "file or a bundled network (asia, alarm, or pgmpy's if installed).")
    sub = bn.add_subparsers(dest="bn_command", metavar="ACTION", required=True)
    net = argparse.ArgumentParser(add_help=False)
    net.add_argument("network", help="a .bif/.bif.gz file, a Gaussian .json file (pgmpy format) or a bundled "
                     "network name (e.g. asia, alarm, ecoli70)")
    ev = argparse.ArgumentParser(add_help=False)
    ev.add_argument("--evidence", "-e", nargs="*", default=[], metavar="NODE=STATE",
                    help="observations: a state name, or else its index (e.g. xray=yes dysp=1)")

    p = sub.add_parser("info", parents=[net], help="nodes, states and parents (or one node's table)")
    p.add_argument("--node", help="print this node's conditional probability table")
    p.set_defaults(func=_info)
    p = sub.add_parser("query", parents=[net, ev], help="exact posterior marginals given evidence")
    p.add_argument("--target", "-t", nargs="*", help="nodes to report; none: every unobserved node")
    p.add_argument("--approx", type=int, metavar="N", help="use likelihood weighting with N samples instead")
    p.set_defaults(func=_query)
    p = sub.add_parser("map", parents=[net, ev], help="most probable explanation of the unobserved nodes")
    p.set_defaults(func=_map)
    p = sub.add_parser("sample", parents=[net], help="forward samples as CSV (state names)")
    p.add_argument("-n", "--num-samples", type=int, default=10, help="number of rows")
    p.add_argument("--out", help="CSV file to write; none: standard output")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(func=_sample)
    p = sub.add_parser("draw", parents=[net], help="draw the DAG to an image file")
    p.add_argument("--out", default="network.png", help="image file (PNG, PDF or SVG by its extension)")
    p.add_argument("--highlight", nargs="*", help="nodes to colour")
    p.add_argument("--title", help="title above the drawing")
    p.set_defaults(func=_draw)
    from probgen.bayesnet.learn.commands import add_commands  # `bn fit` and `bn learn` (no torch)

    add_commands(sub)


def demo(run, quick: bool) -> str:
    """The Bayesian-network part of ``probgen demo`` (see :mod:`probgen.bayesnet.demo`)."""
    from probgen.bayesnet.demo import run_demo

    return run_demo(run, quick)
