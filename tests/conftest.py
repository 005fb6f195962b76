"""Every test starts from a fixed seed, an empty Pyro param store and Pyro's validation switched on."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pyro  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

import probgen  # noqa: E402

# Property-based tests are derandomised and keep no example database, so that `make test` cannot fail by
# chance (a failure found once is found every time). `HYPOTHESIS_PROFILE=explore` searches afresh.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Two cores here: one intra-op thread per test process keeps `pytest -n 2` from oversubscribing.
torch.set_num_threads(int(os.environ.get("PROBGEN_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _fresh_state():
    probgen.seed(0)
    pyro.clear_param_store()
    pyro.enable_validation(True)
    from probgen.progress import set_quiet

    set_quiet(True)
    yield
    pyro.clear_param_store()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Data caches go to one folder per test session, never the user's home."""
    monkeypatch.setenv("PROBGEN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


# torch's gloo teardown can abort a finished process ("terminate called without an active exception")
# when the machine is heavily loaded; that is torch's exit path, not the training under test.
_TEARDOWN_ABORT = "terminate called without an active exception"


@pytest.fixture
def torchrun():
    """Run ``script args...`` under ``torchrun --standalone --nproc_per_node 2``; assert it exits 0.

    Retries once, and only when the failure is gloo's teardown abort above; the caller then checks
    what the ranks wrote."""

    def run(script, *args, env=None, timeout=600):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(script), *map(str, args)]
        for _attempt in range(2):
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
            if res.returncode == 0 or _TEARDOWN_ABORT not in res.stderr:
                break
        assert res.returncode == 0, res.stderr[-3000:]
        return res

    return run


ROOT = Path(__file__).parents[1]


@pytest.fixture
def run_bench():
    """Run ``bench/<name> args...`` in a child process and assert it exits 0; returns the result.

    The child gets the repository on its path, matplotlib's Agg backend and, unless ``one_thread=False``,
    one OpenMP thread (a bench that measures threads itself keeps torch's default)."""

    def run(name, *args, one_thread=True, timeout=600):
        env = {**os.environ, "MPLBACKEND": "Agg",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        if one_thread:
            env["OMP_NUM_THREADS"] = "1"
        res = subprocess.run([sys.executable, str(ROOT / "bench" / name), *map(str, args)],
                             capture_output=True, text=True, timeout=timeout, env=env)
        assert res.returncode == 0, res.stderr[-3000:]
        return res

    return run
