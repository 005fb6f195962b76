"""Every test starts from a fixed seed, an empty Pyro param store and Pyro's validation switched on."""

import os

import matplotlib

matplotlib.use("Agg")

import pyro  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import probgen  # noqa: E402

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
