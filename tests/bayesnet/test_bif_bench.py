"""bench/bif.py --quick runs and prints its table (a smoke test; no timing is asserted)."""


def test_bif_bench_quick(run_bench):
    res = run_bench("bif.py", "--quick", one_thread=False)
    assert "| file | size MB | wall s (best) | CPU s (best) | CPU / CPU at x1 |" in res.stdout
    for shape in ("states", "properties", "rows", "chain"):
        assert res.stdout.count(f"| {shape} x") == 3
    assert "| asia (bundled) |" in res.stdout
