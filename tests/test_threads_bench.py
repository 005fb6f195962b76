"""bench/threads.py --quick runs, starts and stops its background load, and prints both tables (a smoke
test; no timing is asserted)."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "bench" / "threads.py"


def test_threads_bench_quick():
    res = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--limit", "120"], capture_output=True,
                         text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])})
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "| machine | load avg | operation | size | policy threads |" in out
    assert "| machine | load avg | training step (forward, backward, Adam) |" in out
    for machine in ("as is", "+2 matmul procs"):
        assert out.count(f"| {machine} |") == 7  # 5 operations and 2 training steps
    assert "alarm `bn.sample`" in out and "load average at start" in out
