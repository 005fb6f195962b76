"""bench/bayesnet_continuous.py --quick runs, prints its three tables, and probgen's posteriors agree with
the benchmark's own dense oracle to 1e-8 relative."""

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "bayesnet_continuous.py"


def test_bench_quick_runs_and_agrees_with_the_oracle():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True,
                         timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    row = re.search(r"^\| ecoli70 \| 46 \| 5 \| (.*)$", out, re.M).group(1).split("|")
    ours = [float(v) for cell in row[:2] for v in cell.split("/")]  # info and moment: mean, cov, log p(e)
    assert len(ours) == 6 and max(ours) < 1e-8, ours
    batched = re.search(r"^\| ecoli70 \|" + r" [0-9.]+ \|" * 5 + r" (.*) \|$", out, re.M)
    assert max(float(v) for v in batched.group(1).split("/")[:3]) < 1e-8  # BayesNet, info, moment
    assert "| 1,000 |" in out and "RMSE * sqrt(n)" in out
