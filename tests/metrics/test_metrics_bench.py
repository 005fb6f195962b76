"""bench/metrics.py --quick runs and prints its tables, and the torchmetrics cross-check agrees."""

import re


def test_bench_quick_runs(run_bench):
    res = run_bench("metrics.py", "--quick", "--threads", "1")
    assert "| one repeated digit |" in res.stdout and "| mnist-5k (4000 train) | 128 |" in res.stdout
    rel = float(re.search(r"relative difference ([0-9.e+-]+)", res.stdout).group(1))
    assert rel < 1e-5
