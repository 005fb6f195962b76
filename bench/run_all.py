"""Run every benchmark script under bench/ in turn (`make bench`), printing each one's table.

Extra arguments are passed to every script (e.g. `--quick`).
"""

import subprocess
import sys
from pathlib import Path

ORDER = ["vae", "bayesnet", "gan", "metrics", "diffusion"]


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    scripts = [here / f"{name}.py" for name in ORDER if (here / f"{name}.py").exists()]
    scripts += sorted(p for p in here.glob("*.py") if p.stem not in ORDER and p.name != Path(__file__).name)
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.run([sys.executable, str(script), *argv]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
