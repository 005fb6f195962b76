"""Scoring a GAN's samples with :mod:`probgen.metrics` (FID and friends on a domain classifier's features).

:func:`fid_score_fn` builds the ``score_fn`` the trainer uses to keep the best checkpoint; :func:`evaluate`
gives the full report (FID, precision/recall, density/coverage, class coverage, conditional accuracy).
Both draw class-balanced labels for a conditional GAN.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from probgen.gan.model import GAN


def metrics_available() -> bool:
    """True when :mod:`probgen.metrics` (with ``SampleEvaluator``) can be imported."""
    try:
        from probgen.metrics import SampleEvaluator  # noqa: F401
    except ImportError:
        return False
    return True


def has_metric_classifier(data: str) -> bool:
    """True when probgen.metrics is installed and ships a classifier (the FID's features) for ``data``."""
    if not metrics_available():
        return False
    from probgen.metrics.classifier import CONFIGS

    return data in CONFIGS


def balanced_labels(n: int, num_classes: int | None, device=None) -> torch.Tensor | None:
    """Labels 0, 1, ..., K-1, 0, 1, ... (n,), or None for an unconditional GAN (``num_classes`` None)."""
    return torch.arange(n, device=device) % num_classes if num_classes else None


def _evaluator(data: str, device):
    from probgen.metrics import SampleEvaluator

    return SampleEvaluator(data, split="test", device=device)


def fid_score_fn(data: str = "mnist-5k", n: int = 1000, device=None) -> Callable[[GAN], float]:
    """``score(gan) -> FID`` of n samples against ``data``'s test split (lower is better)."""
    ev = _evaluator(data, device)

    def score(gan: GAN) -> float:
        dev = next(gan.generator.parameters()).device
        return float(ev.fid(gan.sample(n, y=balanced_labels(n, gan.num_classes, dev)).cpu()))

    return score


def evaluate(gan: GAN, data: str = "mnist-5k", n: int = 1000, device=None) -> dict[str, float]:
    """FID, precision, recall, density, coverage, classes covered, class KL (and conditional accuracy for a
    conditional GAN) of n samples against ``data``'s test split."""
    ev = _evaluator(data, device)
    dev = next(gan.generator.parameters()).device
    y = balanced_labels(n, gan.num_classes, dev)
    x = gan.sample(n, y=y).cpu()
    return dict(ev.evaluate(x, labels=y.cpu() if y is not None else None))
