"""The thread policy (``probgen.threads``) against torch's default thread count, on a quiet and a loaded
machine, interleaved.

Each operation runs in turn with the policy (probgen as shipped) and with the policy off and torch's
default thread count (``torch.get_num_threads()`` at start: one per physical core), ``--repeats`` times,
first as the machine is, then with two background processes doing torch matrix products (started and
stopped by this script, each also bounded by a deadline). Operations: forward sampling and a batched
exact query of alarm (the issue-11 cases), likelihood weighting, and the quiet-machine figures of
docs/benchmarks.md (one exact query, 10,000 batched rows). Then, as information for other families (the
policy does not touch training code), one small training step of an MLP and of a conv net on 1 and 2
threads, and the count the policy would choose for it.

    python bench/threads.py               # the tables in docs/benchmarks.md (about 10 minutes when loaded)
    python bench/threads.py --quick       # tiny sizes: a smoke test (seconds)
    python bench/threads.py --crossover   # 1 vs 2 threads by size, as is: where MIN_WORK should sit
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

from probgen import threads
from probgen.bayesnet import load_network
from probgen.bayesnet.exact.compiled import compiled

DEFAULT_THREADS = torch.get_num_threads()  # torch's default here, before anything changes it
_BACKGROUND = """
import sys, time, torch
end = time.time() + float(sys.argv[1])
a = torch.randn(384, 384) / 20
while time.time() < end:
    a = torch.tanh(a @ a)  # bounded values, all cores busy
"""


# ------------------------------------------------------------------------------------------- operations
def _alarm_evidence(bn, rows: int, per_row: float, seed: int):
    """Per-row evidence of ``rows`` alarm rows, about ``per_row`` observed nodes each (-1 elsewhere)."""
    gen = torch.Generator().manual_seed(seed)
    sample = bn.sample(rows, generator=gen)
    out = {}
    for n in bn.nodes:
        seen = torch.rand(rows, generator=gen) < per_row / len(bn.nodes)
        out[n] = torch.where(seen, sample[n], torch.full_like(sample[n], -1))
    return out


def operations(quick: bool) -> list[tuple[str, str, object]]:
    """(name, size, callable) of each timed operation."""
    bn = load_network("alarm")
    n_sample, n_big, n_small = (20_000, 2_000, 500) if quick else (1_000_000, 500_000, 10_000)
    big, small = _alarm_evidence(bn, n_big, 3, seed=0), _alarm_evidence(bn, n_small, 3, seed=1)
    row = {"HRBP": "HIGH", "CO": "LOW", "BP": "LOW"}
    lw = 2_000 if quick else 200_000
    batched = "alarm batched posterior, ~3 observed/row"
    return [
        ("alarm `bn.sample`", f"{n_sample:,} rows", lambda: bn.sample(n_sample)),
        (batched, f"{n_big:,} rows", lambda: bn.posterior(big)),
        (batched, f"{n_small:,} rows", lambda: bn.posterior(small)),
        ("alarm posterior, one row (3 observed)", "1 row", lambda: bn.posterior(row)),
        ("alarm likelihood weighting (3 observed)", f"{lw:,} samples",
         lambda: bn.approximate_posterior(row, num_samples=lw)),
    ]


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _chosen(fn) -> set[int]:
    """The thread counts the policy chose while ``fn`` ran."""
    seen, real = set(), threads.choose_threads
    threads.choose_threads = lambda *a: seen.add(real(*a)) or real(*a)
    try:
        fn()
    finally:
        threads.choose_threads = real
    return seen or {torch.get_num_threads()}


def compare(ops, repeats: int, condition: str) -> list[str]:
    """Table rows: each operation with the policy and with torch's default, interleaved."""
    rows = []
    for name, size, fn in ops:
        fn()  # warm-up of both (plans, caches, thread pools)
        with threads.policy(False):
            fn()
        ours, torchs, chosen = [], [], set()
        for _ in range(repeats):
            t = []
            chosen |= _chosen(lambda fn=fn, t=t: t.append(_timed(fn)))
            ours += t
            with threads.policy(False):
                torchs.append(_timed(fn))
        ratio = statistics.median(t / o for t, o in zip(torchs, ours))
        picked = "/".join(map(str, sorted(chosen)))
        cells = [condition, _load(), name, size, picked, _stat(ours), _stat(torchs), f"{ratio:.2f}"]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _stat(ts: list[float]) -> str:
    return f"{statistics.median(ts):.4f} ({min(ts):.4f}-{max(ts):.4f})"


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


# ------------------------------------------------------------------------------------- training steps
def training_steps(quick: bool, batch: int | None = None) -> list[tuple[str, float, object]]:
    """(name, FLOPs of one step, step callable) for a small MLP and a small conv net (the MLP's batch is
    ``batch``, the conv net's half of it)."""
    nn = torch.nn
    batch = batch or (32 if quick else 128)
    mlp = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 100), nn.Linear(100, 400), nn.ReLU(),
                        nn.Linear(400, 784))
    conv = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(64 * 7 * 7, 1))
    x_mlp, x_img = torch.rand(batch, 784), torch.rand(batch // 2, 1, 28, 28)
    mlp_flops = 6 * batch * sum(m.weight.numel() for m in mlp if isinstance(m, nn.Linear))
    conv_flops = 6 * (batch // 2) * (32 * 14 * 14 * 16 + 64 * 7 * 7 * 32 * 16 + 64 * 49)
    return [(f"MLP 784-400-100-400-784, batch {batch}", mlp_flops, _step(mlp, x_mlp)),
            (f"conv 1-32-64 on 28x28, batch {batch // 2}", conv_flops, _step(conv, x_img))]


def _step(model, x):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()

    return step


def training_table(quick: bool, repeats: int, condition: str) -> list[str]:
    rows = []
    for name, flops, step in training_steps(quick):
        times = {1: [], 2: []}
        for _ in range(repeats):
            for n in times:
                torch.set_num_threads(n)
                step()
                times[n].append(min(_timed(step) for _ in range(3)))
        torch.set_num_threads(DEFAULT_THREADS)
        pick = threads.choose_threads(flops, "dense", DEFAULT_THREADS)
        ratio = statistics.median(b / a for a, b in zip(times[1], times[2]))
        rows.append(f"| {condition} | {_load()} | {name} | {flops:.2g} | {pick} | {_stat(times[1])} | "
                    f"{_stat(times[2])} | {ratio:.2f} |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


# ------------------------------------------------------------------------------------------- crossover
def crossover_table(repeats: int) -> list[str]:
    """1 vs 2 threads (policy off) by size for sampling, batched queries and training steps, interleaved:
    the sizes from which the second thread pays on this machine as it is (calibrates ``threads.MIN_WORK``)."""
    bn = load_network("alarm")
    cases = [("memory", f"alarm `bn.sample`, {n:,} rows", n * len(bn.nodes), lambda n=n: bn.sample(n))
             for n in (10_000, 30_000, 100_000, 300_000, 1_000_000)]
    for n in (10_000, 30_000, 100_000, 300_000):
        ev = _alarm_evidence(bn, n, 3, seed=n)
        work = 3 * compiled(bn).total * n  # as exact.queries counts it
        cases.append(("contract", f"alarm batched posterior, {n:,} rows", work,
                      lambda ev=ev: bn.posterior(ev)))
    for batch in (2, 4, 8, 16, 64, 256, 1024):  # training steps: "dense" work, in FLOPs
        cases += [("dense", f"{name} (training step)", flops, step)
                  for name, flops, step in training_steps(False, batch)]
    rows = ["| load avg | kind | operation | work | 1 thread s (median) | 2 threads s (median) | 2 / 1 |",
            "| ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    with threads.policy(False):
        for kind, name, work, fn in cases:
            times = {1: [], 2: []}
            for n in (1, 2):
                torch.set_num_threads(n)
                fn()
            for _ in range(repeats):
                for n in times:
                    torch.set_num_threads(n)
                    times[n].append(_timed(fn))
            torch.set_num_threads(DEFAULT_THREADS)
            one, two = statistics.median(times[1]), statistics.median(times[2])
            rows.append(f"| {_load()} | {kind} | {name} | {work:.2g} | {one:.4f} | {two:.4f} | "
                        f"{two / one:.2f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


# ------------------------------------------------------------------------------------------ background
class Background:
    """Two processes doing torch matrix products (each torch's default threads), for at most ``limit`` s;
    stopped on exit from the block."""

    def __init__(self, limit: float, count: int = 2, settle: float = 5) -> None:
        self.limit, self.count, self.settle, self.procs = limit, count, settle, []

    def __enter__(self):
        for _ in range(self.count):
            self.procs.append(subprocess.Popen([sys.executable, "-c", _BACKGROUND, str(self.limit)]))
        time.sleep(self.settle)  # let them start and the load show
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 5, quick 1)")
    parser.add_argument("--limit", type=float, default=1200, help="seconds the background processes may run")
    parser.add_argument("--crossover", action="store_true", help="only 1 vs 2 threads by size, as is")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    if args.crossover:
        rows = crossover_table(repeats)
        print(f"\n1 vs 2 torch threads by size ({repeats} interleaved repeats)\n\n" + "\n".join(rows) + "\n")
        return 0
    ops = operations(args.quick)
    head = ["| machine | load avg | operation | size | policy threads | policy s, median (range) | "
            f"torch default ({DEFAULT_THREADS} threads) s, median (range) | default / policy |",
            "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    train_head = ["| machine | load avg | training step (forward, backward, Adam) | FLOPs | policy would "
                  "pick | 1 thread s, median (range) | 2 threads s, median (range) | 2 / 1 |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    start = f"{_load()} (1-min load average before the run; {os.cpu_count()} cores)"
    quiet = compare(ops, repeats, "as is")
    quiet_train = training_table(args.quick, repeats, "as is")
    with Background(args.limit, settle=1 if args.quick else 5):
        loaded = compare(ops, repeats, "+2 matmul procs")
        loaded_train = training_table(args.quick, repeats, "+2 matmul procs")
    print(f"\nprobgen thread policy vs torch's default ({'quick' if args.quick else 'full'}, {repeats} "
          f"interleaved repeats), load average at start {start}\n")
    print("\n".join(head + quiet + loaded) + "\n")
    print("\n".join(train_head + quiet_train + loaded_train) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
