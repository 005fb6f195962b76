"""bench/vae.py --quick runs and prints both tables (a smoke test; no timing is asserted)."""


def test_bench_quick(run_bench):
    res = run_bench("vae.py", "--quick")
    assert "| probgen fast path: FastTrace_ELBO + JointOptim |" in res.stdout
    assert "| mlp | 8 | 0 | probgen FastTrace_ELBO |" in res.stdout
