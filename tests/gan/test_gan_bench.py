"""bench/gan.py --quick runs: the speed table (three loops) and a quality table from a tiny training run."""


def test_bench_quick_runs(tmp_path, run_bench):
    res = run_bench("gan.py", "--quick", "--threads", "1", "--out", tmp_path)
    for row in ("| probgen GANStepper.step |", "| hand-written (same computation) |",
                "| pytorch/examples style loop |", "| real train images | - |", "| dcgan | 4 (4) |"):
        assert row in res.stdout, row
    assert (tmp_path / "quick" / "dcgan" / "result.json").exists()
