"""``probgen bn fit NET rows.csv`` and ``probgen bn learn rows.csv``: the learning commands.

Importing this module imports no torch (``probgen bn --help`` stays light): each command imports what it
needs when it runs. ``probgen.bayesnet.cli`` adds the parsers with ``add_commands``.
"""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def _edge(text: str) -> tuple[str, str]:
    """``"A->B"`` (or ``"A,B"``) as ``("A", "B")``."""
    parts = [p.strip() for p in text.replace("->", ",").split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected an edge A->B, got {text!r}")
    return parts[0], parts[1]


def add_commands(sub) -> None:
    """Add ``fit`` and ``learn`` to the ``probgen bn`` subparsers ``sub``."""
    p = sub.add_parser("fit", help="re-estimate a network's tables from a CSV file (EM for missing cells)",
                       description="Fit the tables of a network (its graph and states kept) to the rows of a "
                       "CSV file: maximum likelihood, a Dirichlet prior, or EM when cells are empty or nodes "
                       "are latent.")
    p.add_argument("network", help="a .bif/.bif.gz file or a bundled network name (e.g. asia, alarm)")
    p.add_argument("data", help="CSV file with a header row of node names; empty, NA, NaN or ? cells are "
                   "missing")
    p.add_argument("-o", "--out", default="fitted.bif", help="where to write the fitted network (BIF)")
    p.add_argument("--method", default="mle", choices=["mle", "bayes", "em"],
                   help="estimate (mle and bayes switch to EM when cells are missing)")
    p.add_argument("--prior", choices=["bdeu", "k2"],
                   help="Dirichlet prior (default: bdeu for bayes, none for mle)")
    p.add_argument("--ess", type=float, default=10.0, help="BDeu equivalent sample size")
    p.add_argument("--latent", nargs="*", default=[], metavar="NODE",
                   help="nodes without a column, fitted by EM (default: none)")
    p.add_argument("--max-iter", type=int, default=100, help="most EM iterations")
    p.add_argument("--tol", type=float, default=1e-6, help="EM stops below this relative change of the "
                   "log-likelihood")
    p.add_argument("--restarts", type=int, help="EM starts (default: 5 with latent nodes, else 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed of EM's random starts")
    p.add_argument("--ignore-extra", action="store_true", help="drop CSV columns that are not nodes")
    p.set_defaults(func=_fit)

    p = sub.add_parser("learn", help="learn a network (structure and tables) from a CSV file",
                       description="Learn a graph from the complete rows of a CSV file (hill climbing, tabu "
                       "search or PC), then its tables, and write it as BIF.")
    p.add_argument("data", help="CSV file with a header row (one column per variable)")
    p.add_argument("-o", "--out", default="learned.bif", help="where to write the learned network (BIF)")
    p.add_argument("--method", default="hill-climb", choices=["hill-climb", "tabu", "pc"],
                   help="structure search (pc: PC-stable, then a DAG of its CPDAG)")
    p.add_argument("--score", choices=["bic", "bdeu", "k2"], help="search score, not for pc (default: bic)")
    p.add_argument("--max-indegree", type=int, help="most parents per node, not for pc (default: no limit)")
    p.add_argument("--restarts", type=int, help="random restarts of the search, not for pc (default: 10)")
    p.add_argument("--ci-test", choices=["chi-square", "g-test"], help="PC's test (default: chi-square)")
    p.add_argument("--significance", type=float, help="PC's significance level (default: 0.01)")
    p.add_argument("--required", nargs="*", default=[], type=_edge, metavar="A->B",
                   help="edges that must appear (default: none)")
    p.add_argument("--forbidden", nargs="*", default=[], type=_edge, metavar="A->B",
                   help="edges that must not appear (default: none)")
    p.add_argument("--prior", default="bdeu", choices=["mle", "bdeu", "k2"], help="table estimate")
    p.add_argument("--ess", type=float, default=10.0, help="BDeu equivalent sample size")
    p.set_defaults(func=_learn)


def _fit(args) -> int:
    import torch

    from probgen.bayesnet.cli import load
    from probgen.bayesnet.io.bif import write_bif

    bn = load(args.network)
    fitted = bn.fit(args.data, method=args.method, prior=args.prior, equivalent_sample_size=args.ess,
                    latent=args.latent or None, max_iter=args.max_iter, tol=args.tol,
                    n_restarts=args.restarts, ignore_extra=args.ignore_extra,
                    generator=torch.Generator().manual_seed(args.seed))
    info = fitted.fit_info
    print(repr(fitted))
    if info.method == "em":
        trace = info.log_likelihood
        state = "converged" if info.converged else f"stopped at --max-iter {args.max_iter}"
        starts = len(info.restart_log_likelihoods)
        print(f"EM: {info.iterations} iterations ({state}), log-likelihood {trace[0]:.6g} -> {trace[-1]:.6g}"
              + (f"; best of {starts} starts" if starts > 1 else ""))
    else:
        print(f"method: {info.method}")
    print(f"wrote {write_bif(fitted, args.out)}")
    return 0


def _learn(args) -> int:
    from probgen.bayesnet.cli import _table
    from probgen.bayesnet.io.bif import write_bif
    from probgen.bayesnet.learn.structure import learn_network

    given = {"score": args.score, "max_indegree": args.max_indegree, "restarts": args.restarts,
             "ci_test": args.ci_test, "significance_level": args.significance}
    search = {k: v for k, v in given.items() if v is not None}
    bn = learn_network(args.data, method=args.method, prior=args.prior, equivalent_sample_size=args.ess,
                       required_edges=args.required, forbidden_edges=args.forbidden, **search)
    print(repr(bn))
    print(_table(["node", "parents"], [[n, ", ".join(bn.parents(n)) or "-"] for n in bn.nodes]))
    print(f"wrote {write_bif(bn, args.out)}")
    return 0
