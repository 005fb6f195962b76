"""bench/cli.py --quick runs and prints its table (a smoke test; no timing is asserted)."""

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[1] / "bench" / "cli.py"


def test_cli_bench_quick():
    res = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| command | median s | range s | x `python -c pass` | imports |" in res.stdout
    assert "| `probgen --help, top level only` |" in res.stdout and "load average" in res.stdout
    top_only = next(line for line in res.stdout.splitlines() if "top level only" in line)
    assert top_only.endswith("| none |")  # probgen.cli alone imports no torch, torchvision or Pyro
