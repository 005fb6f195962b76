"""Compare generative models by what they generate, treating explicit and implicit models alike.

A VAE defines a density (an *explicit* model: its log-likelihood can be estimated, here by IWAE); a GAN
only defines a sampler (an *implicit* model: no likelihood). The only common ground is their samples, so
:func:`compare_models` draws the same number of images from every model and scores them all with one
:class:`~probgen.metrics.SampleEvaluator` (FID, precision/recall, density/coverage, class coverage on the
features of a domain classifier). Log-likelihoods are reported as well where a model has one, and marked as
unavailable where it has none, rather than left out silently. A row for real training images gives the
floor that a perfect generator would reach at the same sample size.

Anything with ``sample(n)`` (and ``sample(n, y=labels)`` for class-conditional models, recognised by a
``num_classes`` attribute that is not None) returning (n, C, H, W) images in [0, 1] can be compared.
:class:`SampleView` binds options of ``sample`` (e.g. a Bernoulli VAE's draws instead of its means), so two
ways of sampling one model can stand side by side; ``repeats`` scores several independent sample sets, so
the table shows how much of a difference is sampling noise.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch

from probgen.checks import check_int
from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator, check_images
from probgen.plot import save_figure, show_images

METRIC_COLUMNS = ("fid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
                  "cond_accuracy", "test_log_likelihood")


@dataclass
class ModelReport:
    """One model's scores. ``log_likelihood`` is None for an implicit model (it has no density).

    With ``repeats > 1`` in :func:`compare_models`, ``metrics`` are means over the sample sets and ``spread``
    their standard deviations; ``budget`` holds what the caller passed for this model (e.g. training time).
    """

    name: str
    kind: str  # "explicit", "implicit" or "data"
    metrics: dict[str, float]
    log_likelihood: float | None = None
    sample_seconds: float = 0.0
    samples: torch.Tensor = field(default=None, repr=False)  # (n, C, H, W) in [0, 1], the first sample set
    spread: dict[str, float] = field(default_factory=dict)  # metric -> s.d. over repeats (empty: 1 repeat)
    budget: dict[str, object] = field(default_factory=dict)  # e.g. {"grad_steps": 3200, "train_s": 95.0}

    def row(self) -> dict[str, float | str]:
        out = {"model": self.name, "kind": self.kind, **self.metrics}
        out["test_log_likelihood"] = self.log_likelihood if self.log_likelihood is not None else "n/a"
        return {**out, **self.budget}


class SampleView:
    """A model whose ``sample`` is called with fixed keyword arguments; everything else is the model's.

    ``SampleView(vae, mean=False)`` scores draws x ~ p(x | z) of a Bernoulli VAE instead of the mean images
    E[x | z] that ``vae.sample(n)`` returns. ``log_likelihood``, ``num_classes`` and ``parameters`` are the
    wrapped model's, so the view stays explicit, and :func:`compare_models` estimates the log-likelihood of
    one model once however many views of it it compares.

    Args:
        model: anything with ``sample(n, ...)``.
        **sample_kwargs: passed to every ``model.sample`` call.
    """

    def __init__(self, model, **sample_kwargs) -> None:
        if not callable(getattr(model, "sample", None)):
            raise TypeError(f"{type(model).__name__} has no sample(n) method, so it cannot be viewed")
        self.model, self.sample_kwargs = model, sample_kwargs

    def sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """``model.sample(n, [y=y,] **sample_kwargs)``: (n, C, H, W)."""
        extra = {} if y is None else {"y": y}
        return self.model.sample(n, **extra, **self.sample_kwargs)

    def __getattr__(self, name: str):
        if name in ("model", "sample_kwargs"):  # not set yet (e.g. during unpickling)
            raise AttributeError(name)
        return getattr(self.model, name)

    def __repr__(self) -> str:
        kw = ", ".join(f"{k}={v!r}" for k, v in self.sample_kwargs.items())
        return f"SampleView({type(self.model).__name__}, {kw})"


def _base(model):
    return model.model if isinstance(model, SampleView) else model


def model_kind(model) -> str:
    """``"explicit"`` if the model can score data (has ``log_likelihood``), else ``"implicit"``."""
    return "explicit" if callable(getattr(model, "log_likelihood", None)) else "implicit"


def is_conditional(model) -> bool:
    """A class-conditional model has ``num_classes`` set (None: unconditional, probgen's convention)."""
    return getattr(model, "num_classes", None) is not None


@torch.no_grad()
def sample_images(model, n: int, y: torch.Tensor | None = None, batch_size: int = 500) -> torch.Tensor:
    """Draw ``n`` images from ``model.sample`` in batches; (n, C, H, W) float on the CPU."""
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"{type(model).__name__} has no sample(n) method, so it cannot be compared")
    out = []
    for i in range(0, n, batch_size):
        k = min(batch_size, n - i)
        x = model.sample(k) if y is None else model.sample(k, y=y[i : i + k])
        out.append(x.detach().float().cpu())
    return torch.cat(out)


def _mean_log_likelihood(model, images: torch.Tensor, labels: torch.Tensor | None, num_samples: int,
                         batch_size: int) -> float:
    device = next(iter(model.parameters())).device if hasattr(model, "parameters") else torch.device("cpu")
    total = 0.0
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device)
        if labels is None:
            ll = model.log_likelihood(x, num_samples=num_samples)
        else:
            ll = model.log_likelihood(x, labels[i : i + batch_size].to(device), num_samples=num_samples)
        total += float(ll.sum())
    return total / len(images)


def _check_likelihood_args(models, likelihood_data, likelihood_labels) -> None:
    if likelihood_data is None:
        return
    if likelihood_labels is not None and (not isinstance(likelihood_labels, torch.Tensor)
                                          or likelihood_labels.shape != (len(likelihood_data),)):
        got = (tuple(likelihood_labels.shape) if isinstance(likelihood_labels, torch.Tensor)
               else type(likelihood_labels).__name__)
        raise ValueError(f"`likelihood_labels` must be a ({len(likelihood_data)},) tensor, one label per "
                         f"image of `likelihood_data`, got {got}")
    for name, model in models.items():
        if model_kind(model) == "explicit" and is_conditional(model) and likelihood_labels is None:
            raise ValueError(f"model {name!r} is class-conditional, so its log-likelihood log p(x | y) needs "
                             "labels: pass `likelihood_labels` (the labels of `likelihood_data`)")


def _spread(runs: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Means and standard deviations over repeats of each metric (s.d. only with 2 or more repeats)."""
    mean = {k: statistics.fmean(float(r[k]) for r in runs) for k in runs[0]}
    if len(runs) == 1:
        return dict(runs[0]), {}
    return mean, {k: statistics.stdev(float(r[k]) for r in runs) for k in runs[0]}


def compare_models(
    models: Mapping[str, object],
    *,
    evaluator: SampleEvaluator | None = None,
    num_samples: int = 1000,
    likelihood_data: torch.Tensor | None = None,
    likelihood_labels: torch.Tensor | None = None,
    likelihood_samples: int = 1000,
    include_data: bool = True,
    seed: int = 0,
    repeats: int = 1,
    budgets: Mapping[str, Mapping[str, object]] | None = None,
) -> list[ModelReport]:
    """Score every model's samples with one evaluator.

    Args:
        models: name -> model with ``sample(n)`` returning (n, C, H, W) in [0, 1].
        evaluator: the shared evaluator (default: ``SampleEvaluator("mnist-5k", "test")``).
        num_samples: images drawn from each model (the same N for all: FID depends on N).
        likelihood_data: (M, C, H, W) test images for explicit models' ``log_likelihood`` (IWAE with
            ``likelihood_samples`` importance samples), or None to skip. It must match what the models were
            trained on (e.g. binarised images for a Bernoulli VAE).
        likelihood_labels: (M,) labels of ``likelihood_data``; required for class-conditional explicit
            models, whose ``log_likelihood(x, y)`` is then log p(x | y).
        include_data: add a ``"training data"`` row (real training images; the floor of each metric).
        seed: seeds sampling so the comparison repeats.
        repeats: independent sample sets per model (seeds ``seed``, ``seed + 1``, ...; for the data row,
            different random subsets); metrics are then means and ``ModelReport.spread`` their s.d.
        budgets: name -> plain values shown in the table after the metrics (e.g. gradient steps, training
            seconds), so each model's training budget stands next to its scores.

    Returns:
        One :class:`ModelReport` per model (plus the data row first when ``include_data``).
    """
    if not models:
        raise ValueError("`models` is empty; pass a mapping name -> model")
    check_int("num_samples", num_samples, 10)
    check_int("repeats", repeats, 1)
    unknown = sorted(set(budgets or {}) - set(models))
    if unknown:
        raise ValueError(f"`budgets` names {unknown}, which are not in `models` {list(models)}")
    _check_likelihood_args(models, likelihood_data, likelihood_labels)
    evaluator = evaluator or SampleEvaluator("mnist-5k", "test")
    reports = [_data_report(evaluator, num_samples, seed, repeats)] if include_data else []
    ll_cache: dict[int, float] = {}  # id of the underlying model -> its mean log-likelihood
    for name, model in models.items():
        report = _model_report(name, model, evaluator, num_samples, seed, repeats)
        if report.kind == "explicit" and likelihood_data is not None:
            key = id(_base(model))
            if key not in ll_cache:
                labels = likelihood_labels if is_conditional(model) else None
                ll_cache[key] = _mean_log_likelihood(model, likelihood_data, labels, likelihood_samples, 100)
            report.log_likelihood = ll_cache[key]
        report.budget = dict((budgets or {}).get(name, {}))
        reports.append(report)
    return reports


def _data_report(evaluator: SampleEvaluator, n: int, seed: int, repeats: int) -> ModelReport:
    real = load_dataset(evaluator.dataset, "train").images
    runs, first = [], None
    for r in range(repeats):
        idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed + r))[:n]
        first = real[idx] if first is None else first
        runs.append(evaluator.evaluate(real[idx]))
    metrics, spread = _spread(runs)
    return ModelReport("training data", "data", metrics, samples=first, spread=spread)


def _model_report(name: str, model, evaluator: SampleEvaluator, n: int, seed: int,
                  repeats: int) -> ModelReport:
    y = torch.arange(n) % model.num_classes if is_conditional(model) else None
    runs, first, seconds = [], None, 0.0
    for r in range(repeats):
        torch.manual_seed(seed + r)
        t0 = time.perf_counter()
        samples = check_images(sample_images(model, n, y), evaluator.image_shape, f"samples of {name!r}")
        seconds += time.perf_counter() - t0
        first = samples if first is None else first
        runs.append(evaluator.evaluate(samples, y))
    metrics, spread = _spread(runs)
    return ModelReport(name, model_kind(model), metrics, None, seconds / repeats, first, spread)


def comparison_table(reports: list[ModelReport]) -> str:
    """A Markdown table of the reports (columns present in any report, in a fixed order; budget columns
    last). Metrics scored over several repeats show as ``mean ± s.d.``."""
    rows = [r.row() for r in reports]
    cols = ["model", "kind"] + [c for c in METRIC_COLUMNS if any(c in r for r in rows)]
    for r in reports:
        cols += [k for k in r.budget if k not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rep, r in zip(reports, rows):
        cells = [_cell(r.get(c, "")) + (f" ± {_cell(rep.spread[c])}" if c in rep.spread else "")
                 for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def comparison_figure(reports: list[ModelReport], path, n: int = 64, nrow: int = 8, ncols: int | None = None):
    """Sample grids side by side, one panel per report (``n`` images, ``nrow`` per row), titled with FID and
    class coverage, ``ncols`` panels per row of the figure (default: all in one row); saves a PNG."""
    ncols = ncols or len(reports)
    rows = -(-len(reports) // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(3.2 * ncols, 3.6 * rows), squeeze=False)
    axes = list(axes.flat)
    for ax, r in zip(axes, reports):
        title = f"{r.name}\nFID {r.metrics['fid']:.1f}, {r.metrics['classes_covered']:g}/10 classes"
        show_images(r.samples[:n], ax=ax, nrow=nrow, title=title)
    for ax in axes[len(reports):]:
        ax.set_axis_off()
    return save_figure(fig, path)
