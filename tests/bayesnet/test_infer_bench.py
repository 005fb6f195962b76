"""bench/bayesnet.py --quick runs, prints its tables, and its correctness columns agree with pyAgrum and
pgmpy to 1e-9."""

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "bayesnet.py"


def test_bench_quick_runs_and_agrees_with_the_references():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    row = re.search(r"^\| alarm \| 37 \| 2 \| (.*)$", out, re.M).group(1).split("|")
    diffs = [float(x) for x in row[:4]]  # max abs diff and P(e) rel. diff vs pyAgrum and vs pgmpy
    assert max(diffs) < 1e-9, diffs
    for label in ("| 5 fixed observed nodes |", "| probgen `bn.sample` |", "| probgen `read_bif` |"):
        assert label in out
    batched = re.findall(r"^\| (?:5 fixed|~3 random).*\| ([0-9.e+-]+) \|$", out, re.M)
    assert len(batched) == 2 and max(map(float, batched)) < 1e-9
