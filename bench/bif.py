"""BIF reading time by file shape and size: the parser must be linear in the size of the text.

Each shape is generated at three sizes (x1, x2, x4); a linear parser takes about twice as long at each
step. Bundled networks are timed as shipped. Every file is read as bytes (``read_bif(data)``), so the script
also runs against older probgen versions for a before/after comparison. Times are best of ``--repeats``,
wall and CPU (``time.process_time``, less sensitive to other jobs on the machine).

    python bench/bif.py            # the table in docs/benchmarks.md (about a minute)
    python bench/bif.py --quick    # small sizes (a smoke test)
    python bench/bif.py --only chain --repeats 5   # one shape, no bundled networks
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import sys
import time

import torch

from probgen.bayesnet import read_bif
from probgen.bayesnet.io.bundled import list_networks, network_path


def _roots(names) -> str:
    return "".join(f"variable {n} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
                   f"probability ( {n} ) {{ table 0.5, 0.5; }}\n" for n in names)


def states(n: int) -> str:
    """One variable with n states."""
    return (f"variable A {{ type discrete [ {n} ] {{ {', '.join(f's{i}' for i in range(n))} }}; }}\n"
            f"probability ( A ) {{ table 1{', 0' * (n - 1)}; }}\n")


def properties(n: int) -> str:
    """n property lines in one network block."""
    return "network n {\n" + "  property a = b ;\n" * n + "}\n" + _roots(["A"])


def rows(n: int) -> str:
    """A node with k binary parents, one row for each of their n = 2^k configurations."""
    k = max(1, n.bit_length() - 1)
    body = "".join(f"({', '.join(c)}) 0.5, 0.5;\n" for c in itertools.product("ab", repeat=k))
    parents = [f"P{i}" for i in range(k)]
    return _roots(parents) + ("variable C { type discrete [ 2 ] { a, b }; }\n"
                              f"probability ( C | {', '.join(parents)} ) {{\n{body}}}\n")


def chain(n: int) -> str:
    """n binary variables in a chain, each with its own two rows."""
    return _roots(["V0"]) + "".join(f"variable V{i} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
                                    f"probability ( V{i} | V{i - 1} ) {{ (a) 0.1, 0.9; (b) 0.2, 0.8; }}\n"
                                    for i in range(1, n))


SHAPES = {"states": (states, 15_000), "properties": (properties, 25_000), "rows": (rows, 8_192),
          "chain": (chain, 5_000)}


def _best(data: bytes, repeats: int) -> tuple[float, float]:
    """Best wall and CPU seconds of read_bif(data)."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        read_bif(data)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def table(quick: bool, repeats: int, only: str | None = None) -> list[str]:
    out = ["| file | size MB | wall s (best) | CPU s (best) | CPU / CPU at x1 |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for shape, (make, base) in SHAPES.items():
        if only and shape != only:
            continue
        first = None
        for factor in (1, 2, 4):
            n = (base // 16 if quick else base) * factor
            data = make(n).encode()
            wall, cpu = _best(data, repeats)
            first = first or cpu
            out.append(f"| {shape} x{factor} (n = {n:,}) | {len(data) / 1e6:.2f} | {wall:.3f} | {cpu:.3f} | "
                       f"{cpu / first:.1f} |")
            print(out[-1], file=sys.stderr, flush=True)
    for name in [] if only else ["asia"] if quick else ["alarm", "pathfinder", "munin", "diabetes", "barley"]:
        if name not in list_networks():
            continue
        raw = network_path(name).read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        wall, cpu = _best(data, repeats)
        out.append(f"| {name} (bundled) | {len(data) / 1e6:.2f} | {wall:.3f} | {cpu:.3f} | |")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes / 16, one repeat (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="best of this many reads (default 3)")
    parser.add_argument("--only", choices=sorted(SHAPES), default=None,
                        help="one file shape (its three sizes) and no bundled networks (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    read_bif(_roots(["A"]).encode())  # imports and first-call costs out of the table
    load = os.getloadavg()[0]
    rows_ = table(args.quick, args.repeats or (1 if args.quick else 3), args.only)
    print(f"\nBIF reading by shape and size (load average {load:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at the end)\n\n" + "\n".join(rows_) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
