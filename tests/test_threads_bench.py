"""bench/threads.py --quick runs, starts and stops its background load, and prints both tables (a smoke
test; no timing is asserted)."""


def test_threads_bench_quick(run_bench):
    res = run_bench("threads.py", "--quick", "--limit", "120", one_thread=False)
    out = res.stdout
    assert "| machine | load avg | operation | size | policy threads |" in out
    assert "| machine | load avg | training step (forward, backward, Adam) |" in out
    for machine in ("as is", "+2 matmul procs"):
        assert out.count(f"| {machine} |") == 7  # 5 operations and 2 training steps
    assert "alarm `bn.sample`" in out and "load average at start" in out
