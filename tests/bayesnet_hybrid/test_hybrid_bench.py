"""bench/bayesnet_continuous.py --quick runs, prints its three tables, and probgen's posteriors agree with
the benchmark's own dense oracle to 1e-8 relative."""

import re


def test_bench_quick_runs_and_agrees_with_the_oracle(run_bench):
    res = run_bench("bayesnet_continuous.py", "--quick")
    out = res.stdout
    row = re.search(r"^\| ecoli70 \| 46 \| 5 \| (.*)$", out, re.M).group(1).split("|")
    ours = [float(v) for cell in row[:2] for v in cell.split("/")]  # info and moment: mean, cov, log p(e)
    assert len(ours) == 6 and max(ours) < 1e-8, ours
    batched = re.search(r"^\| ecoli70 \|" + r" [0-9.]+ \|" * 5 + r" (.*) \|$", out, re.M)
    assert max(float(v) for v in batched.group(1).split("/")[:3]) < 1e-8  # BayesNet, info, moment
    assert "| 1,000 |" in out and "RMSE * sqrt(n)" in out
