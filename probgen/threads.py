"""How many torch threads an operation gets: a policy that holds on a busy machine.

torch runs every large tensor operation on all its intra-op threads (by default one per physical core).
That pays when the cores are free and the operation is large. On a busy machine it backfires: a parallel
region ends when its slowest thread does, and a thread the OS has descheduled for a time slice stalls
every region it is in. Measured on the 2-core development machine at a load average of about 3, 1,000,000
alarm samples took 0.26-0.42 s on one thread and 2.7-4.4 s on two, and a 500,000-row batched query 4.8 s
on one thread and 12-21 s on two (``bench/threads.py`` has the figures).

``torch_threads(work, kind=...)`` wraps one operation and chooses its thread count:

1. Work below ``MIN_WORK[kind]`` runs on one thread: its parallel regions would cost more than they save
   (many small kernels, e.g. one exact query), quiet machine or not.
2. Larger work gets as many threads as there are spare cores (``spare_cores``: the cores this process may
   use, less those that other processes keep busy), at least one.
3. Never more than the thread count in force when the outermost block was entered (the user's
   ``torch.set_num_threads``, or torch's default), which is restored when the last block exits.

Work is counted per kind, in the unit its threshold is in:

- ``"memory"``: elements read or written by elementwise, gather and integer operations (forward sampling:
  rows x nodes; likelihood weighting: rows x samples x nodes x states). Memory-bound.
- ``"contract"``: multiply-adds of many small table contractions (batched exact inference).
- ``"dense"``: floating-point operations of matrix products and convolutions (a training step).

``PROBGEN_THREADS=torch`` in the environment, or ``with policy(False):``, turns the policy off: blocks then
run with torch's setting as it is (what ``bench/threads.py`` compares against).

torch's thread count is one setting for the whole process: while a block runs, torch code in other Python
threads of the process runs with the block's count too. Blocks nest, and blocks in several Python threads
leave the user's setting in force once the last of them exits.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator

import torch

__all__ = ["MIN_WORK", "torch_threads", "choose_threads", "spare_cores", "policy"]

# Below this much work an operation runs on one thread (units: see the module docstring). All three are
# calibrated on the quiet 2-core machine (`python bench/threads.py --crossover`, load 1.0-1.2,
# docs/benchmarks.md "Threads"): where a second thread starts to pay.
MIN_WORK = {
    "memory": 4e6,  # alarm bn.sample: 2/1 threads 0.95 at 3.7e6 element-steps, 0.60 at 1.1e7, 0.73 at 3.7e7
    "contract": 3.5e7,  # 2/1 threads: 1.25 at 3.4e7 (a diabetes query), 0.70 at 3.6e7 (10,000 alarm rows),
    #                     0.77 at 5.0e7 (munin), 0.69 at 6.0e7 (barley), 0.63 at 1.7e8 (link)
    "dense": 5e7,  # training steps (MLP, conv net): 2/1 threads 0.77-0.98 up to 4.1e7 FLOPs, 0.84-0.86 at
    #                7-8e7, 0.68-0.73 at 3e8, 0.52-0.62 from 1e9 (2026-12-07; training keeps its threads)
}
PSI_BUSY = 10.0  # % of the last 10 s in which some task waited for a CPU: the machine counts as contended

_lock = threading.Lock()
_open = 0  # blocks open, over all Python threads
_user_threads = 1  # torch.get_num_threads() when the first of them was entered
_enabled = os.environ.get("PROBGEN_THREADS", "").strip().lower() != "torch"


@contextlib.contextmanager
def torch_threads(work: float = math.inf, *, kind: str = "dense") -> Iterator[int]:
    """Run the block with the thread count the policy chooses for ``work`` of ``kind``; yields it.

    Args:
        work: the operation's size in the unit of ``kind`` (``math.inf``: large).
        kind: ``"memory"``, ``"contract"`` or ``"dense"`` (see the module docstring).

    Example:
        >>> with torch_threads(1e3, kind="memory") as n:
        ...     n
        1
    """
    global _open, _user_threads
    if kind not in MIN_WORK:
        raise ValueError(f"`kind`={kind!r}: use one of {sorted(MIN_WORK)}")
    with _lock:
        if _open == 0:
            _user_threads = torch.get_num_threads()
        _open += 1
        cap = _user_threads
    before = torch.get_num_threads()
    n = choose_threads(work, kind, cap) if _enabled else before
    try:
        if n != before:
            torch.set_num_threads(n)
        yield n
    finally:
        with _lock:
            _open -= 1
            target = _user_threads if _open == 0 else before
        if torch.get_num_threads() != target:
            torch.set_num_threads(target)


def choose_threads(work: float, kind: str, cap: int) -> int:
    """The thread count for ``work`` of ``kind`` under a cap of ``cap`` threads (rules 1-3 above)."""
    if cap <= 1 or not work >= MIN_WORK[kind]:
        return 1
    return max(1, min(cap, spare_cores()))


def spare_cores() -> int:
    """Cores this process may use that other processes are not keeping busy now; at least 1.

    Linux: the cores in this process's affinity mask, less the runnable threads of other processes at
    this moment (``/proc/loadavg``'s running count, less this process's own running threads). When the
    CPU has been contended lately (``/proc/pressure/cpu``: some task waited for a CPU at least
    ``PSI_BUSY`` % of the last 10 s; without that file, a 1-minute load average above the core count),
    the 1-minute load average less this process counts too, so that a moment when the other processes
    happen to sleep does not hand out every core. Elsewhere: the load average less one, if there is one.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    others = _running_elsewhere()
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # no load average (Windows)
        load = 0.0
    if others is None:
        others = max(0.0, load - 1)
    elif _contended(load, usable):
        others = max(others, load - 1)
    return int(max(1, min(usable, math.floor(usable - others + 1e-9))))


def _running_elsewhere() -> int | None:
    """Threads of other processes running or runnable now (Linux), else None."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - _running_here())


def _running_here() -> int:
    """This process's threads in state R (running or runnable), at least this one."""
    n = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        end = stat.rfind(b")")  # the name may contain spaces and parentheses; the state follows it
        n += stat[end + 2:end + 3] == b"R"
    return max(1, n)


def _contended(load: float, usable: int) -> bool:
    """Whether tasks have been waiting for a CPU lately (pressure stall information, or the load average)."""
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()  # "some avg10=18.96 avg60=53.35 avg300=69.45 total=..."
        return float(some[1].partition("=")[2]) >= PSI_BUSY
    except (OSError, ValueError, IndexError):
        return load > usable


@contextlib.contextmanager
def policy(enabled: bool) -> Iterator[None]:
    """Turn the policy on or off inside the block (off: ``torch_threads`` keeps torch's setting)."""
    global _enabled
    before, _enabled = _enabled, bool(enabled)
    try:
        yield
    finally:
        _enabled = before
