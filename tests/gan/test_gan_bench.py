"""bench/gan.py --quick runs: the speed table (three loops) and a quality table from a tiny training run."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "gan.py"


def test_bench_quick_runs(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    for row in ("| probgen GANStepper.step |", "| hand-written (same computation) |",
                "| pytorch/examples style loop |", "| real train images | - |", "| dcgan | 4 (4) |"):
        assert row in res.stdout, row
    assert (tmp_path / "quick" / "dcgan" / "result.json").exists()
