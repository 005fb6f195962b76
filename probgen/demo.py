"""``probgen demo``: every model family, briefly, on offline data, into one self-contained HTML page.

The demo runs its sections in order (``SECTIONS``): the data, a VAE, a Bayesian network, a GAN, the
VAE-vs-GAN comparison (``probgen.compare``), the KL exercise and a diffusion baseline. Each prints a
header with the time it should take on a quiet 2-core CPU, shows a progress bar for every training stage
(on a terminal), runs on one torch thread (``section_threads``), and returns a Markdown section. The
sections are written to ``report.md`` (images as relative links) and ``report.html`` (one page, images
embedded: open it in any browser, mail it, move it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from probgen import seed as seed_all
from probgen.families import DEMO_SECTIONS, available_families, demo_sections, family_cli
from probgen.progress import is_quiet
from probgen.report import write_html
from probgen.runs import RunDir


@dataclass(frozen=True)
class Section:
    """One part of the demo: ``run(run_dir, quick) -> Markdown``; ``seconds``: its (quick, full) wall
    seconds on one thread measured by ``bench/demo.py`` at load average 2.5-3.7 on the 2-core machine
    (docs/benchmarks.md, "Demo"). Shown in its header."""

    name: str
    title: str
    seconds: tuple[float, float]
    run: Callable[[RunDir, bool], str]


def _family(name: str) -> Callable[[RunDir, bool], str]:
    return lambda run, quick: family_cli(name).demo(run, quick)


def _extra(name: str) -> Callable[[RunDir, bool], str]:
    def run_section(run: RunDir, quick: bool) -> str:
        from probgen import demo_sections

        return getattr(demo_sections, name)(run, quick)

    return run_section


SECTIONS = (
    Section("data", "Data", (3, 2), _extra("data_section")),
    Section("vae", "VAE", (1, 17), _family("vae")),
    Section("bayesnet", "Bayesian network", (2, 2), _family("bayesnet")),
    Section("gan", "GAN", (1, 78), _family("gan")),
    Section("compare", "VAE vs GAN comparison", (5, 18), _extra("compare_section")),
    Section("kl", "KL divergence", (1, 1), _extra("kl_section")),
    Section("diffusion", "Diffusion", (1, 22), _extra("diffusion_section")),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)
assert SECTION_NAMES == DEMO_SECTIONS, "probgen.families.DEMO_SECTIONS lists the sections for the CLI"


def sections(only=None) -> list[Section]:
    """The sections to run: all (families without a CLI module left out), or those named in ``only``."""
    runnable = set(demo_sections(available_families()))
    chosen = [s for s in SECTIONS if s.name in runnable]
    if only:
        unknown = sorted(set(only) - set(SECTION_NAMES))
        if unknown:
            raise ValueError(f"`only`={unknown} names no demo section; use some of {list(SECTION_NAMES)}")
        chosen = [s for s in chosen if s.name in only]
    return chosen


def section_threads():
    """The torch threads a demo section runs on: one. The demo's training steps are small (about 1e8-1e9
    FLOPs), where a second thread saves little on a quiet machine and costs 3-9x as soon as another process
    wants the core (docs/benchmarks.md, "Threads" and "Demo"); work 0 is below every ``MIN_WORK``, so the
    policy of ``probgen.threads`` gives one thread (and honours a lower cap set by the user)."""
    from probgen.threads import torch_threads

    return torch_threads(0, kind="dense")


def run_demo(out: str | Path = "runs/demo", quick: bool = False, only=None, seed: int = 0) -> Path:
    """Run the demo into ``out``; writes ``report.md`` and ``report.html`` and returns the latter's path."""
    chosen = sections(only)
    run = RunDir(out, {"quick": quick, "only": only, "seed": seed})
    seed_all(seed)
    parts, timings, t_all = [], {}, time.perf_counter()
    for i, section in enumerate(chosen, 1):
        expected = section.seconds[0 if quick else 1]
        with section_threads() as threads:
            _say(f"[{i}/{len(chosen)}] {section.title}: about {expected:.0f} s on a CPU core of its own, "
                 f"longer on a busy machine ({threads} torch thread{'s' * (threads > 1)} now)")
            t0 = time.perf_counter()
            body = section.run(run, quick)
            timings[section.name] = time.perf_counter() - t0
        _say(f"    {section.title} done in {timings[section.name]:.1f} s")
        parts.append(f"{body.rstrip()}\n\n_({section.title}: {timings[section.name]:.1f} s)_\n")
    total = time.perf_counter() - t_all
    (run.path / "timings.json").write_text(_timings_json(timings, total))
    text = "# probgen demo\n\n" + _intro(quick, total) + "\n".join(parts)
    (run.path / "report.md").write_text(text)
    return write_html(text, run.path, run.path / "report.html")


def _intro(quick: bool, total: float) -> str:
    size = "`--quick` (tiny settings: the figures show the plumbing, not trained models)" if quick else \
        "the default settings"
    return (f"Every section ran on offline data with {size}, in {total:.0f} s in all. Each number that is "
            "hard to judge alone has its reference beside it.\n\n")


def _timings_json(timings: dict, total: float) -> str:
    import json
    import os

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return json.dumps({"seconds": timings, "total": total, "loadavg_at_end": load}, indent=1)


def _say(msg: str) -> None:
    if not is_quiet():
        print(msg, file=sys.stderr, flush=True)
