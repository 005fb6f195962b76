"""``probgen demo``: every model family, briefly, on offline data, into one Markdown report."""

from __future__ import annotations

import time
from pathlib import Path

from probgen import seed as seed_all
from probgen.data import load_dataset
from probgen.families import available_families, family_cli
from probgen.plot import save_image_grid
from probgen.runs import RunDir


def run_demo(out: str | Path = "runs/demo", quick: bool = False, only=None, seed: int = 0) -> Path:
    """Run the demo into ``out`` and return the path of ``report.md``."""
    run = RunDir(out, {"quick": quick, "only": only, "seed": seed})
    seed_all(seed)
    sections = [_data_section(run)]
    for name in only or available_families():
        t0 = time.perf_counter()
        body = family_cli(name).demo(run, quick)
        sections.append(f"{body.rstrip()}\n\n_({name}: {time.perf_counter() - t0:.1f} s)_\n")
    report = run.path / "report.md"
    report.write_text("# probgen demo\n\n" + "\n".join(sections))
    return report


def _data_section(run: RunDir) -> str:
    x, y = load_dataset("mnist-5k", split="train")
    order = y.argsort(stable=True)
    per_class = order.view(10, -1)[:, :8].reshape(-1)  # 8 of each digit, row by row
    path = save_image_grid(x[per_class], run.figure("data_mnist5k.png"), nrow=8)
    return (
        "## Data\n\n"
        f"`mnist-5k`: {len(x)} training images of shape {tuple(x.shape[1:])} "
        "(real MNIST digits, offline).\n\n"
        f"![real digits]({path.relative_to(run.path)})\n"
    )
