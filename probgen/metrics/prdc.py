"""k-nearest-neighbour fidelity and diversity metrics on features.

* Precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric for assessing
  generative models", arXiv 1904.06991): each point of a set gets a ball whose radius is the distance to
  its k-th nearest neighbour in the same set; the union of the balls estimates the set's manifold.
  Precision is the fraction of fake points inside the real manifold, recall the fraction of real points
  inside the fake manifold. The paper uses k = 3.
* Density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics for generative
  models", arXiv 2002.09797): only real balls are used, which makes them robust to outliers. Density
  counts how many real balls hold each fake point, divided by k (about 1 when the two distributions match,
  above 1 when fakes crowd dense real regions); coverage is the fraction of real balls that hold at least
  one fake point. The paper uses k = 5; for identical distributions E[coverage] -> 1 - 2^-k.

A point lies in a ball when its distance to the centre is <= the radius. Distances are Euclidean, float64,
computed pair by pair (copies are exactly 0 apart), in row chunks so that memory stays O(chunk * N).
"""

from __future__ import annotations

import numpy as np
import torch

from probgen.checks import check_int

ArrayLike = torch.Tensor | np.ndarray
_CHUNK = 1024


def _as_features(x: ArrayLike, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor | np.ndarray):
        raise TypeError(f"`{name}` must be a torch tensor or numpy array, got {type(x).__name__}")
    t = torch.as_tensor(x).detach().to(device="cpu", dtype=torch.float64)
    if t.ndim != 2:
        raise ValueError(f"`{name}` must be (N, D) features, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"`{name}` contains NaN or inf values")
    return t


def _check_k(k: int, n: int, name: str) -> None:
    check_int("k", k, 1)
    if n <= k:
        raise ValueError(f"`{name}` has {n} points but k={k} nearest neighbours need at least {k + 1}")


def _cdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (A, D), (B, D) -> (A, B), each computed directly from its own pair.

    The matrix-product shortcut is ~5x faster but rounds one pair differently in different blocks, which
    flips ties on ball boundaries (a generator that copies real images creates such ties).
    """
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def knn_radii(features: ArrayLike, k: int) -> torch.Tensor:
    """Distance from each of the (N, D) points to its k-th nearest other point: (N,) float64."""
    f = _as_features(features, "features")
    _check_k(k, len(f), "features")
    radii = torch.empty(len(f), dtype=torch.float64)
    for i in range(0, len(f), _CHUNK):
        d = _cdist(f[i : i + _CHUNK], f)  # (chunk, N); the point itself is one of the k + 1 smallest
        radii[i : i + _CHUNK] = d.topk(k + 1, dim=1, largest=False).values[:, k]
    return radii


def ball_counts(points: ArrayLike, centres: ArrayLike, radii: torch.Tensor) -> torch.Tensor:
    """For each of the (P, D) points, how many balls (centres (C, D), radii (C,)) contain it: (P,) int64."""
    p, c = _as_features(points, "points"), _as_features(centres, "centres")
    counts = torch.empty(len(p), dtype=torch.int64)
    for i in range(0, len(p), _CHUNK):
        counts[i : i + _CHUNK] = (_cdist(p[i : i + _CHUNK], c) <= radii).sum(1)  # (chunk,)
    return counts


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3, *,
                     real_radii: torch.Tensor | None = None) -> tuple[float, float]:
    """Improved precision and recall of (M, D) ``fake`` against (N, D) ``real`` features.

    ``real_radii`` (N,) may be passed to reuse :func:`knn_radii` of the real set.

    Returns:
        ``(precision, recall)``, each in [0, 1].
    """
    real, fake = _as_features(real, "real"), _as_features(fake, "fake")
    _check_dims(real, fake)
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    precision = (ball_counts(fake, real, real_radii) > 0).double().mean()
    recall = (ball_counts(real, fake, knn_radii(fake, k)) > 0).double().mean()
    return float(precision), float(recall)


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5, *,
                     real_radii: torch.Tensor | None = None) -> tuple[float, float]:
    """Density and coverage of (M, D) ``fake`` against (N, D) ``real`` features.

    Returns:
        ``(density, coverage)``: density >= 0 (about 1 for matching distributions), coverage in [0, 1].
    """
    real, fake = _as_features(real, "real"), _as_features(fake, "fake")
    _check_dims(real, fake)
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    density = ball_counts(fake, real, real_radii).double().sum() / (k * len(fake))
    covered = torch.zeros(len(real), dtype=torch.bool)
    for i in range(0, len(real), _CHUNK):  # real ball i is covered if its nearest fake lies inside it
        nearest = _cdist(real[i : i + _CHUNK], fake).min(1).values  # (chunk,)
        covered[i : i + _CHUNK] = nearest <= real_radii[i : i + _CHUNK]
    return float(density), float(covered.double().mean())


def expected_coverage(n_real: int, n_fake: int, k: int) -> float:
    """E[coverage] when real and fake are i.i.d. from one continuous distribution (Naeem et al. 2020).

    A real ball is uncovered when its k nearest neighbours among the other N - 1 real and M fake points
    are all real: 1 - prod_{i=1..k} (N - i) / (N + M - i).
    """
    p_uncovered = np.prod([(n_real - i) / (n_real + n_fake - i) for i in range(1, k + 1)])
    return float(1 - p_uncovered)


def _check_dims(real: torch.Tensor, fake: torch.Tensor) -> None:
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature dimensions differ: real has {real.shape[1]}, fake has {fake.shape[1]}")
