"""bench/bif.py --quick runs and prints its table (a smoke test; no timing is asserted)."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "bif.py"


def test_bif_bench_quick():
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])}
    res = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True,
                         timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| file | size MB | wall s (best) | CPU s (best) | CPU / CPU at x1 |" in res.stdout
    for shape in ("states", "properties", "rows", "chain"):
        assert res.stdout.count(f"| {shape} x") == 3
    assert "| asia (bundled) |" in res.stdout
