"""bench/bayesnet.py --quick runs, prints its tables, and its correctness columns agree with pyAgrum and
pgmpy to 1e-9."""

import re


def test_bench_quick_runs_and_agrees_with_the_references(run_bench):
    res = run_bench("bayesnet.py", "--quick", "--threads", "1")
    out = res.stdout
    row = re.search(r"^\| alarm \| 37 \| 2 \| (.*)$", out, re.M).group(1).split("|")
    diffs = [float(x) for x in row[:4]]  # max abs diff and P(e) rel. diff vs pyAgrum and vs pgmpy
    assert max(diffs) < 1e-9, diffs
    for label in ("| 5 fixed observed nodes |", "| probgen `bn.sample` |", "| probgen `read_bif` |"):
        assert label in out
    batched = re.findall(r"^\| (?:5 fixed|~3 random).*\| ([0-9.e+-]+) \|$", out, re.M)
    assert len(batched) == 2 and max(map(float, batched)) < 1e-9
