"""bench/metrics.py --quick runs and prints its tables, and the torchmetrics cross-check agrees."""

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "metrics.py"


def test_bench_quick_runs():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1"], capture_output=True,
                         text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| one repeated digit |" in res.stdout and "| mnist-5k (4000 train) | 128 |" in res.stdout
    rel = float(re.search(r"relative difference ([0-9.e+-]+)", res.stdout).group(1))
    assert rel < 1e-5
