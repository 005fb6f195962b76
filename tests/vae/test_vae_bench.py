"""bench/vae.py --quick runs and prints both tables (a smoke test; no timing is asserted)."""

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "vae.py"


def test_bench_quick():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=600,
                         env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| probgen fast path: FastTrace_ELBO + JointOptim |" in res.stdout
    assert "| mlp | 8 | 0 | probgen FastTrace_ELBO |" in res.stdout
