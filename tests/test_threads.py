"""The thread policy (``probgen.threads``): one thread for small work or a busy machine, never more than
the user's ``torch.set_num_threads``, the setting restored on every exit (errors, nesting, several Python
threads). Load is simulated by replacing ``spare_cores`` or the /proc readers; nothing here times work."""

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from probgen import threads
from probgen.bayesnet import load_network
from probgen.bayesnet.approx import weighting
from probgen.bayesnet.model import sampling


@pytest.fixture
def user_threads():
    """Sets torch's thread count to a 'user' value for the test and puts the old one back after."""
    before = torch.get_num_threads()

    def set_to(n):
        torch.set_num_threads(n)
        return n

    yield set_to
    torch.set_num_threads(before)


@pytest.fixture
def spare(monkeypatch):
    """``spare(k)``: the machine has k spare cores."""
    return lambda k: monkeypatch.setattr(threads, "spare_cores", lambda: k)


def test_small_work_runs_on_one_thread_and_the_setting_is_restored(user_threads, spare):
    user_threads(2)
    spare(2)
    with threads.torch_threads(10, kind="memory") as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("user, free, expected", [(2, 2, 2), (2, 1, 1), (1, 2, 1), (3, 8, 3), (4, 2, 2)])
def test_large_work_gets_the_spare_cores_up_to_the_users_cap(user_threads, spare, user, free, expected):
    user_threads(user)
    spare(free)
    for kind in threads.MIN_WORK:
        with threads.torch_threads(math.inf, kind=kind) as n:
            assert n == expected == torch.get_num_threads()
        assert torch.get_num_threads() == user


def test_restored_after_an_error(user_threads, spare):
    user_threads(2)
    spare(2)
    with pytest.raises(KeyError), threads.torch_threads(1, kind="dense"):
        raise KeyError("inside")
    assert torch.get_num_threads() == 2


def test_nested_blocks_restore_their_outer_count_and_keep_the_users_cap(user_threads, spare):
    user_threads(2)
    spare(2)
    with threads.torch_threads(1, kind="contract") as outer:
        assert outer == 1
        with threads.torch_threads(math.inf, kind="contract") as inner:
            assert inner == 2 == torch.get_num_threads()  # the cap is the user's 2, not the outer 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


class _Block(threading.Thread):
    """A Python thread that enters a ``torch_threads`` block, records its count and waits to be let out."""

    def __init__(self, work):
        super().__init__()
        self.work, self.entered, self.leave, self.n = work, threading.Event(), threading.Event(), None

    def run(self):
        with threads.torch_threads(self.work, kind="memory") as self.n:
            self.entered.set()
            self.leave.wait(10)


@pytest.mark.parametrize("first", [0, 1])
def test_blocks_in_several_python_threads_leave_the_users_setting(user_threads, spare, first):
    """A (small: 1 thread) enters, then B (large: 2); they exit in either order; the user's 2 is left."""
    user_threads(2)
    spare(2)
    blocks = [_Block(1), _Block(math.inf)]
    for b in blocks:
        b.start()
        assert b.entered.wait(10)
    assert [b.n for b in blocks] == [1, 2]
    for b in (blocks[first], blocks[1 - first]):
        b.leave.set()
        b.join(10)
    assert torch.get_num_threads() == 2


def test_the_policy_can_be_turned_off(user_threads, spare):
    user_threads(2)
    spare(1)
    with threads.policy(False), threads.torch_threads(1, kind="memory") as n:
        assert n == 2 == torch.get_num_threads()
    code = ("import torch; torch.set_num_threads(2); from probgen import threads\n"
            "with threads.torch_threads(1, kind='memory') as n: print(n)")
    root = Path(__file__).resolve().parents[1]  # this checkout's probgen first on sys.path
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PROBGEN_THREADS": "torch"}, cwd=root)
    assert out.stdout.strip() == "2"


def test_an_unknown_kind_is_named():
    with pytest.raises(ValueError, match=r"`kind`='gpu': use one of \['contract', 'dense', 'memory'\]"):
        with threads.torch_threads(1, kind="gpu"):
            pass


@pytest.mark.parametrize("elsewhere, load, contended, expected", [
    (0, 0.2, False, 2),  # quiet
    (0, 2.0, False, 2),  # only this process has been busy (on 2 threads): not contended
    (1, 1.5, False, 1),  # one other process running now
    (3, 3.0, True, 1),  # the busy machine of issue 11
    (0, 3.2, True, 1),  # the others sleep this instant, but tasks waited for a CPU lately
    (None, 0.3, False, 2),  # no /proc (macOS): the load average less this process
    (None, 2.6, False, 1),
])
def test_spare_cores_from_the_load(monkeypatch, elsewhere, load, contended, expected):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "_running_elsewhere", lambda: elsewhere)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(threads, "_contended", lambda load, usable: contended)
    assert threads.spare_cores() == expected


def test_the_proc_readers_see_this_process():
    assert threads._running_here() >= 1  # this thread is running
    usable = len(threads.os.sched_getaffinity(0))
    assert 1 <= threads.spare_cores() <= usable


def _record_threads(monkeypatch, module, name):
    seen = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    return seen


def test_sampling_and_weighting_run_on_one_thread_when_the_machine_is_busy(monkeypatch, user_threads, spare):
    bn = load_network("alarm")
    user_threads(2)
    draws = _record_threads(monkeypatch, sampling, "_draw")
    chunks = _record_threads(monkeypatch, weighting, "_sample_chunk")
    for free, expected in ((1, 1), (2, 2)):
        spare(free)
        draws.clear()
        chunks.clear()
        bn.sample(200_000)  # 7.4e6 element-steps: above MIN_WORK["memory"]
        weighting.likelihood_weighting(bn, {"HRBP": "HIGH"}, num_samples=50_000)
        assert draws == [expected] and set(chunks) == {expected}
        assert torch.get_num_threads() == 2
    bn.sample(10)
    assert draws[-1] == 1  # small: one thread


def test_the_quiet_machine_figures_keep_their_thread_counts(monkeypatch, user_threads, spare):
    """On a quiet machine the policy gives 1e6 samples and the 10,000-row batch (3.6e7 multiply-adds) both
    threads, which the quiet crossover figures of docs/benchmarks.md found faster, and a one-row query one
    thread; on a busy machine, one thread for all."""
    bn = load_network("alarm")
    user_threads(2)
    chosen = []
    real = threads.choose_threads
    monkeypatch.setattr(threads, "choose_threads", lambda *a: chosen.append(real(*a)) or chosen[-1])
    rows = bn.sample(10_000, generator=torch.Generator().manual_seed(0))
    batch = {n: rows[n] for n in ("HRBP", "CO", "BP")}
    for free, expected in ((2, [2, 2, 1]), (1, [1, 1, 1])):
        spare(free)
        chosen.clear()
        bn.sample(1_000_000)
        bn.posterior(batch)
        bn.posterior({"HRBP": "HIGH"})
        assert chosen == expected
