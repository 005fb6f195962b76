"""Fréchet distance between feature distributions (FID, Heusel et al. 2017, arXiv 1706.08500).

Each set of features is summarised by its mean and (unbiased) covariance, and the distance is the squared
2-Wasserstein distance between the two Gaussians with those moments::

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)

Everything runs in float64. The matrix square root uses the symmetric form S1^1/2 S2 S1^1/2, which is
positive semi-definite, so one symmetric eigendecomposition (negative round-off eigenvalues clipped to 0)
replaces the non-symmetric ``sqrtm(S1 @ S2)`` that breaks down (complex parts, NaN) when covariances are
singular, e.g. with fewer samples than feature dimensions or a collapsed generator.
"""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = torch.Tensor | np.ndarray


def _as64(x: ArrayLike, name: str, ndim: int) -> torch.Tensor:
    if not isinstance(x, torch.Tensor | np.ndarray):
        raise TypeError(f"`{name}` must be a torch tensor or numpy array, got {type(x).__name__}")
    t = torch.as_tensor(x).detach().to(device="cpu", dtype=torch.float64)
    if t.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s), got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"`{name}` contains NaN or inf values")
    return t


def sqrtm_psd(a: ArrayLike) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite (D, D) matrix, float64 (D, D).

    Round-off asymmetry is averaged away and negative eigenvalues are clipped to zero.
    """
    a = _as64(a, "a", 2)
    w, v = torch.linalg.eigh((a + a.T) / 2)  # (D,), (D, D)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def trace_sqrt_product(s1: ArrayLike, s2: ArrayLike) -> float:
    """tr((S1 S2)^1/2) for symmetric PSD (D, D) matrices, via the PSD form S1^1/2 S2 S1^1/2."""
    r1 = sqrtm_psd(s1)
    m = r1 @ _as64(s2, "s2", 2) @ r1  # (D, D), PSD up to round-off
    return float(torch.linalg.eigvalsh((m + m.T) / 2).clamp_min(0).sqrt().sum())


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means, shape (D,).
        sigma1, sigma2: covariances, shape (D, D), symmetric positive semi-definite.

    Returns:
        The distance as a Python float (>= 0).
    """
    mu1, mu2 = _as64(mu1, "mu1", 1), _as64(mu2, "mu2", 1)
    s1, s2 = _as64(sigma1, "sigma1", 2), _as64(sigma2, "sigma2", 2)
    d = mu1.shape[0]
    for name, t in (("mu2", mu2), ("sigma1", s1), ("sigma2", s2)):
        if any(n != d for n in t.shape):
            raise ValueError(f"`{name}` has shape {tuple(t.shape)} but `mu1` has dimension {d}")
    dist = (mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * trace_sqrt_product(s1, s2)
    return max(float(dist), 0.0)  # clip round-off below zero (identical inputs)


def feature_stats(features: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D), float64, of (N, D) features (N >= 2)."""
    f = _as64(features, "features", 2)
    if f.shape[0] < 2:
        raise ValueError(f"`features` needs at least 2 rows to estimate a covariance, got {f.shape[0]}")
    mu = f.mean(0)  # (D,)
    centred = f - mu  # (N, D)
    return mu, centred.T @ centred / (f.shape[0] - 1)


def fid_from_features(features1: ArrayLike, features2: ArrayLike) -> float:
    """FID between two feature sets, (N1, D) and (N2, D): :func:`frechet_distance` of their moments."""
    mu1, s1 = feature_stats(features1)
    mu2, s2 = feature_stats(features2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    return frechet_distance(mu1, s1, mu2, s2)
