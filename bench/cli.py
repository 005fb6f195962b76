"""CLI start-up: wall time of ``python -m probgen.cli <command>`` for the help and list commands.

Each command runs in a fresh interpreter (this checkout first on ``PYTHONPATH``), ``--repeats`` times,
interleaved with two references measured in the same run: ``python -c pass`` (the interpreter alone) and
``python -c "import torch"`` (what a command pays if it imports torch). The table gives the median and
the range over the repeats, the median as a multiple of ``python -c pass``, and which of torch,
torchvision, Pyro one extra run of the command imported (from ``python -X importtime``). The row
"--help, top level only" runs ``probgen --help`` with no model family registered: the start-up cost of
``probgen.cli`` itself.

    python bench/cli.py                 # median of 5 (about a minute; longer while commands import torch)
    python bench/cli.py --quick         # one repeat of a few commands (a smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "pyro")
TOP_LEVEL_ONLY = ("import probgen.families as f; f.FAMILIES = (); from probgen.cli import main; "
                  "main(['--help'])")

REFERENCES = {"python -c pass": ["-c", "pass"], 'python -c "import torch"': ["-c", "import torch"]}
COMMANDS = ["--help", "--version", "data list", "demo --help", "train --help", "train vae --help",
            "train gan --help", "train bn --help", "bn --help"]
QUICK_COMMANDS = ["--help", "--version"]


def _rows(quick: bool) -> dict[str, list[str]]:
    """Row label -> interpreter arguments, references first."""
    rows = dict(REFERENCES)
    for command in QUICK_COMMANDS if quick else COMMANDS:
        rows[f"probgen {command}"] = ["-m", "probgen.cli", *command.split()]
    rows["probgen --help, top level only"] = ["-c", TOP_LEVEL_ONLY]
    return rows


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
            "OMP_NUM_THREADS": "1"}


def _time_once(args: list[str]) -> float:
    """Seconds of wall time for one fresh interpreter running ``args`` (its exit status must be 0)."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         cwd=ROOT, env=_env(), text=True)
    elapsed = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"`python {' '.join(args)}` failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return elapsed


def _heavy_imports(args: list[str]) -> str:
    """Which of HEAVY ``args`` imports, read from ``python -X importtime``'s report on stderr."""
    res = subprocess.run([sys.executable, "-X", "importtime", *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=ROOT, env=_env(), text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import")}
    return ", ".join(name for name in HEAVY if name in names) or "none"


def measure(rows: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    """Interleaved timings: each round runs every row once, the order rotating from round to round."""
    labels = list(rows)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(repeats):
        for label in labels[r % len(labels):] + labels[: r % len(labels)]:
            times[label].append(_time_once(rows[label]))
    return times


def table(rows: dict[str, list[str]], times: dict[str, list[float]]) -> str:
    base = statistics.median(times["python -c pass"])
    lines = ["| command | median s | range s | x `python -c pass` | imports |",
             "| --- | --- | --- | --- | --- |"]
    for label, args in rows.items():
        t = times[label]
        med = statistics.median(t)
        lines.append(f"| `{label}` | {med:.2f} | {min(t):.2f}-{max(t):.2f} | {med / base:.1f} | "
                     f"{_heavy_imports(args)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="one repeat of a few commands (smoke test)")
    args = parser.parse_args(argv)
    rows, repeats = _rows(args.quick), 1 if args.quick else args.repeats
    load = os.getloadavg()
    times = measure(rows, repeats)
    print(f"CLI start-up, interleaved repeats: {repeats}, Python "
          f"{sys.version.split()[0]}; load average {load[0]:.2f} (1 min) before, "
          f"{os.getloadavg()[0]:.2f} after\n")
    print(table(rows, times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
