"""bench/cli.py --quick runs and prints its table (a smoke test; no timing is asserted)."""


def test_cli_bench_quick(run_bench):
    res = run_bench("cli.py", "--quick")
    assert "| command | median s | range s | x `python -c pass` | imports |" in res.stdout
    assert "| `probgen --help, top level only` |" in res.stdout and "load average" in res.stdout
    top_only = next(line for line in res.stdout.splitlines() if "top level only" in line)
    assert top_only.endswith("| none |")  # probgen.cli alone imports no torch, torchvision or Pyro
