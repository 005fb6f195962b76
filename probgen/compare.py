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
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch

from probgen.data import load_dataset
from probgen.metrics import SampleEvaluator, check_images
from probgen.plot import save_figure, show_images

METRIC_COLUMNS = ("fid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
                  "cond_accuracy", "test_log_likelihood")


@dataclass
class ModelReport:
    """One model's scores. ``log_likelihood`` is None for an implicit model (it has no density)."""

    name: str
    kind: str  # "explicit", "implicit" or "data"
    metrics: dict[str, float]
    log_likelihood: float | None = None
    sample_seconds: float = 0.0
    samples: torch.Tensor = field(default=None, repr=False)  # (n, C, H, W) in [0, 1]

    def row(self) -> dict[str, float | str]:
        out = {"model": self.name, "kind": self.kind, **self.metrics}
        out["test_log_likelihood"] = self.log_likelihood if self.log_likelihood is not None else "n/a"
        return out


def model_kind(model) -> str:
    """``"explicit"`` if the model can score data (has ``log_likelihood``), else ``"implicit"``."""
    return "explicit" if callable(getattr(model, "log_likelihood", None)) else "implicit"


def is_conditional(model) -> bool:
    return getattr(model, "num_classes", None) not in (None, 0)


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


def _mean_log_likelihood(model, images: torch.Tensor, num_samples: int, batch_size: int) -> float:
    device = next(iter(model.parameters())).device if hasattr(model, "parameters") else torch.device("cpu")
    total = 0.0
    for i in range(0, len(images), batch_size):
        total += float(model.log_likelihood(images[i : i + batch_size].to(device), num_samples=num_samples).sum())
    return total / len(images)


def compare_models(
    models: Mapping[str, object],
    *,
    evaluator: SampleEvaluator | None = None,
    num_samples: int = 1000,
    likelihood_data: torch.Tensor | None = None,
    likelihood_samples: int = 1000,
    include_data: bool = True,
    seed: int = 0,
) -> list[ModelReport]:
    """Score every model's samples with one evaluator.

    Args:
        models: name -> model with ``sample(n)`` returning (n, C, H, W) in [0, 1].
        evaluator: the shared evaluator (default: ``SampleEvaluator("mnist-5k", "test")``).
        num_samples: images drawn from each model (the same N for all: FID depends on N).
        likelihood_data: (M, C, H, W) test images for explicit models' ``log_likelihood`` (IWAE with
            ``likelihood_samples`` importance samples), or None to skip. It must match what the models were
            trained on (e.g. binarised images for a Bernoulli VAE).
        include_data: add a ``"training data"`` row (real training images; the floor of each metric).
        seed: seeds sampling so the comparison repeats.

    Returns:
        One :class:`ModelReport` per model (plus the data row first when ``include_data``).
    """
    if not models:
        raise ValueError("`models` is empty; pass a mapping name -> model")
    if not isinstance(num_samples, int) or num_samples < 10:
        raise ValueError(f"`num_samples` must be an int >= 10, got {num_samples!r}")
    evaluator = evaluator or SampleEvaluator("mnist-5k", "test")
    reports = []
    if include_data:
        real = load_dataset(evaluator.dataset, "train").images
        idx = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:num_samples]
        reports.append(ModelReport("training data", "data", evaluator.evaluate(real[idx]), samples=real[idx]))
    for name, model in models.items():
        torch.manual_seed(seed)
        y = torch.arange(num_samples) % model.num_classes if is_conditional(model) else None
        t0 = time.perf_counter()
        samples = check_images(sample_images(model, num_samples, y), evaluator.image_shape, f"samples of {name!r}")
        seconds = time.perf_counter() - t0
        kind = model_kind(model)
        ll = None
        if kind == "explicit" and likelihood_data is not None:
            ll = _mean_log_likelihood(model, likelihood_data, likelihood_samples, batch_size=100)
        reports.append(ModelReport(name, kind, evaluator.evaluate(samples, y), ll, seconds, samples))
    return reports


def comparison_table(reports: list[ModelReport]) -> str:
    """A Markdown table of the reports (columns present in any report, in a fixed order)."""
    rows = [r.row() for r in reports]
    cols = ["model", "kind"] + [c for c in METRIC_COLUMNS if any(c in r for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def comparison_figure(reports: list[ModelReport], path, n: int = 64, nrow: int = 8):
    """Side-by-side sample grids, one panel per report, titled with FID and class coverage; saves a PNG."""
    fig, axes = plt.subplots(1, len(reports), figsize=(3.2 * len(reports), 3.6))
    axes = [axes] if len(reports) == 1 else list(axes)
    for ax, r in zip(axes, reports):
        title = f"{r.name}\nFID {r.metrics['fid']:.1f}, {r.metrics['classes_covered']}/10 classes"
        show_images(r.samples[:n], ax=ax, nrow=nrow, title=title)
    return save_figure(fig, path)
