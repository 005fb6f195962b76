"""Class-level metrics from the domain classifier's predictions.

* Class coverage: how many of the C classes the generator produces, judged by the classifier's argmax. A
  class counts as covered when it receives at least ``min_share`` of its uniform share of the samples
  (default 0.1: at least 1% of the samples for 10 classes, and at least one sample), so a stray
  misclassified sample does not make a mode-collapsed generator look diverse.
* Class KL: KL(h || uniform) = log C - H(h) of the predicted-class histogram h, in nats: 0 for perfectly
  balanced classes, log C (2.303 for 10 classes) for a single class.
* Conditional accuracy: for a class-conditional generator asked for labels y, the fraction of samples the
  classifier assigns to the requested class.
"""

from __future__ import annotations

import math

import torch


def _check_pred(pred: torch.Tensor, num_classes: int, name: str = "pred") -> torch.Tensor:
    if not isinstance(pred, torch.Tensor) or pred.ndim != 1:
        shape = tuple(pred.shape) if isinstance(pred, torch.Tensor) else type(pred).__name__
        raise ValueError(f"`{name}` must be a (N,) tensor of class indices, got {shape}")
    if pred.dtype.is_floating_point or pred.dtype == torch.bool:
        raise TypeError(f"`{name}` must hold integer class indices, got dtype {pred.dtype}")
    if len(pred) == 0:
        raise ValueError(f"`{name}` is empty")
    if pred.min() < 0 or pred.max() >= num_classes:
        raise ValueError(f"`{name}` has values in [{int(pred.min())}, {int(pred.max())}], outside "
                         f"[0, {num_classes - 1}] for {num_classes} classes")
    return pred.detach().cpu().long()


def class_histogram(pred: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Share of (N,) predicted classes falling in each class: (num_classes,) float64, sums to 1."""
    pred = _check_pred(pred, num_classes)
    return torch.bincount(pred, minlength=num_classes).double() / len(pred)


def classes_covered(pred: torch.Tensor, num_classes: int = 10, min_share: float = 0.1) -> int:
    """Number of classes receiving at least ``min_share / num_classes`` of the (N,) ``pred`` (and >= 1)."""
    if not 0 <= min_share <= 1:
        raise ValueError(f"`min_share`={min_share!r} must lie in [0, 1]")
    counts = torch.bincount(_check_pred(pred, num_classes), minlength=num_classes)  # (C,)
    threshold = max(1.0, min_share * len(pred) / num_classes)
    return int((counts >= threshold).sum())


def class_kl(pred: torch.Tensor, num_classes: int = 10) -> float:
    """KL(predicted-class histogram || uniform) in nats, in [0, log num_classes]."""
    h = class_histogram(pred, num_classes)  # (C,)
    nz = h[h > 0]
    return max(float((nz * nz.log()).sum() + math.log(num_classes)), 0.0)


def conditional_accuracy(pred: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> float:
    """Fraction of samples whose (N,) predicted class equals the (N,) requested ``labels``."""
    pred = _check_pred(pred, num_classes)
    labels = _check_pred(labels, num_classes, "labels")
    if len(labels) != len(pred):
        raise ValueError(f"`labels` has {len(labels)} entries but there are {len(pred)} images")
    return float((pred == labels).double().mean())
