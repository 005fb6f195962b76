"""``run(config)``: the whole of ``probgen compare``, from training to the written reading.

Trains, each under the same budget and with the same decoder/generator network
(:mod:`probgen.compare.nets`): a VAE by the ELBO, the GAN with the non-saturating loss, the same GAN with
the saturating minimax loss, a conditional VAE and a conditional GAN, and the DDPM when asked; scores them
with one evaluator (:mod:`probgen.compare.evaluate`); writes ``table.md``, ``table.csv``, ``reading.md``,
``config.json`` and ``figures/`` (samples, nearest neighbours, training curves, generator gradient norms)
under ``out``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from probgen.checks import check_bool, check_output_folder
from probgen.compare.config import CompareConfig

DDPM_SAMPLE_STEPS = 50  # respaced reverse steps per DDPM sample (T = 1000 would take minutes per 1,000)


@dataclass
class CompareResult:
    """What :func:`run` wrote and measured.

    Attributes:
        rows: one dict per row of the table, the real-data reference first (``model``, ``kind``, each
            metric and its ``<metric>_sd``, ``test_log_likelihood`` (a float or ``"n/a"``), ``nn_distance``,
            ``budget``, ``steps``, ``train_s``).
        table_markdown: the table as Markdown, with its notes.
        csv_path: ``out/table.csv``.
        figures: name -> PNG path (``samples``, ``nearest_neighbours``, ``training_curves``,
            ``generator_gradients``).
        reading: the written reading (Markdown bullets), generated from the numbers.
        out: the output folder.
    """

    rows: list[dict]
    table_markdown: str
    csv_path: Path
    figures: dict[str, Path]
    reading: str
    out: Path


def _train_all(cfg: CompareConfig, show: bool) -> list:
    from probgen.compare import train as T
    from probgen.data import load_dataset

    data = load_dataset(cfg.data, "train")
    budget, k = cfg.steps_or_seconds, 10  # both data sets have ten classes
    jobs = [
        ("VAE", lambda i: T.train_vae("VAE", data, None, budget, cfg, i, show)),
        ("GAN (non-saturating)", lambda i: T.train_gan("GAN (non-saturating)", data, None, budget, cfg, i,
                                                       show, "non-saturating")),
        ("GAN (saturating)", lambda i: T.train_gan("GAN (saturating)", data, None, budget, cfg, i, show,
                                                   "minimax")),
        ("conditional VAE", lambda i: T.train_vae("conditional VAE", data, k, budget, cfg, i, show)),
        ("conditional GAN", lambda i: T.train_gan("conditional GAN", data, k, budget, cfg, i, show,
                                                  "non-saturating")),
    ]
    if cfg.ddpm:
        jobs.append(("DDPM", lambda i: T.train_ddpm("DDPM", data, budget, cfg, i, show, DDPM_SAMPLE_STEPS)))
    trained = []
    for i, (name, job) in enumerate(jobs):
        if show:
            print(f"[{i + 1}/{len(jobs)}] training {name} for {cfg.budget_text()}", flush=True)
        trained.append(job(i))
    return trained


def _figures(ev, trained: list, budget: str, folder: Path) -> dict[str, Path]:
    from probgen.compare import figures as F

    return {
        "samples": F.samples_figure(ev.reports, folder / "samples.png", budget),
        "nearest_neighbours": F.neighbours_figure(ev.nn_pairs, ev.nn_mean, ev.test_nn_mean,
                                                  folder / "nearest_neighbours.png"),
        "training_curves": F.curves_figure(trained, folder / "training_curves.png"),
        "generator_gradients": F.grad_norm_figure(trained, folder / "generator_gradients.png"),
    }


def run(config: CompareConfig | dict, progress: bool = True) -> CompareResult:
    """Train, score and report every model of the comparison; see :class:`CompareConfig`.

    Args:
        config: a :class:`CompareConfig` or a dict of its fields (unknown keys refused).
        progress: print a line per stage and show progress bars (on a terminal).

    Returns:
        A :class:`CompareResult`. The same config (with a step budget) gives identical numbers.
    """
    cfg = config if isinstance(config, CompareConfig) else CompareConfig.from_dict(config)
    show = check_bool("progress", progress)
    out = check_output_folder("out", cfg.out)
    t0 = time.perf_counter()
    trained = _train_all(cfg, show)
    from probgen.compare import reading as R
    from probgen.compare.evaluate import evaluate

    ev = evaluate(trained, cfg, show)
    budget = cfg.budget_text()
    rows = R.table_rows(ev, budget)
    table = R.table_markdown(rows, ev.iwae)
    text = R.reading(rows, trained, budget, cfg.sample_sets)
    out.mkdir(parents=True, exist_ok=True)
    figures = _figures(ev, trained, budget, out / "figures")
    (out / "table.md").write_text(table + "\n")
    (out / "reading.md").write_text(text + "\n")
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    csv_path = R.write_csv(rows, out / "table.csv")
    if show:
        print(f"\n{table}\n\n{text}\n\nwrote {out} in {time.perf_counter() - t0:.0f} s", flush=True)
    return CompareResult(rows, table, csv_path, figures, text, out)
