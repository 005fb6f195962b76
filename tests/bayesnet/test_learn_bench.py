"""bench/bayesnet_learning.py --quick runs and prints its tables; its correctness columns hold (maximum
likelihood equal to pgmpy's to 1e-12; EM closer to the truth than the complete-rows fit)."""

import re


def test_learning_bench_quick_runs(run_bench):
    res = run_bench("bayesnet_learning.py", "--quick")
    out = res.stdout
    diffs = re.findall(r"^\| (?:category|object) columns of state names \|.*\| ([0-9.e+-]+) \|$", out, re.M)
    assert len(diffs) == 2 and max(map(float, diffs)) <= 1e-12
    for title in ("### Hill climbing with BIC", "### PC (chi-square", "### EM,", "### Latent class"):
        assert title in out
    em = re.search(r"^\| none \(maximum likelihood\) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|", out, re.M)
    _, with_em, complete = map(float, em.groups())
    assert with_em < complete
