"""``SampleEvaluator``: every sample-quality metric of a generator, from its sample images alone.

The evaluator embeds a real data split once with the shipped domain classifier and caches its features,
moments and k-NN radii; each call then embeds the generated images and compares. It treats explicit
models (VAEs) and implicit ones (GANs) alike, since it only sees images. FID depends on the sample size
(it is biased upwards for small N): compare models at the same N, e.g. 1,000 samples against the 1,000
test digits of mnist-5k.
"""

from __future__ import annotations

import os

import torch

from probgen.checks_torch import check_image_batch
from probgen.data import SPLITS, dataset_info, load_dataset
from probgen.device import get_device
from probgen.metrics.classifier import CONFIGS, DigitClassifier, load_classifier
from probgen.metrics.coverage import class_kl, classes_covered, conditional_accuracy
from probgen.metrics.fid import feature_stats, frechet_distance
from probgen.metrics.prdc import density_coverage, knn_radii, precision_recall

_TOL = 1e-3  # round-off allowed outside [0, 1] before images are rejected


def check_images(images: torch.Tensor, shape: tuple[int, int, int], name: str = "images") -> torch.Tensor:
    """Validate (N, C, H, W) float images in [0, 1] of the given (C, H, W) (probgen.checks_torch's image
    check, with a little round-off allowed); returns them float32, clamped to [0, 1]."""
    images = check_image_batch(images, tuple(shape), name=name, who="this evaluator", value_range=(0.0, 1.0),
                               tol=_TOL)
    return images.detach().float().clamp(0, 1)


class SampleEvaluator:
    """FID, precision/recall, density/coverage and class metrics of generated images vs a real split.

    Args:
        dataset: data set whose shipped classifier and real images define the metrics
            (``"mnist-5k"``: images (N, 1, 28, 28); ``"digits"``: (N, 1, 8, 8)).
        split: real split to compare against, ``"test"`` (default) or ``"train"``.
        device: where the classifier runs (None: CUDA when available, else the CPU).
        classifier: a :class:`DigitClassifier` or a path to its weights, instead of the shipped one.
        k_pr: neighbours for precision/recall (3, as Kynkäänniemi et al.).
        k_dc: neighbours for density/coverage (5, as Naeem et al.).
        min_share: share of a uniform class share that a class needs to count as covered.
        batch_size: images per classifier forward pass.

    Examples:
        >>> ev = SampleEvaluator("mnist-5k")
        >>> ev.evaluate(images)  # images (N, 1, 28, 28) in [0, 1]
        {'fid': ..., 'precision': ..., 'recall': ..., 'density': ..., 'coverage': ...,
         'classes_covered': ..., 'class_kl': ...}
    """

    def __init__(self, dataset: str = "mnist-5k", split: str = "test",
                 device: str | torch.device | None = None, *,
                 classifier: DigitClassifier | str | os.PathLike | None = None,
                 k_pr: int = 3, k_dc: int = 5, min_share: float = 0.1, batch_size: int = 1000) -> None:
        if dataset not in CONFIGS:
            raise ValueError(f"`dataset`={dataset!r} has no metric classifier; use one of {list(CONFIGS)}")
        if split not in SPLITS:
            raise ValueError(f"`split`={split!r} is not a split; use one of {list(SPLITS)}")
        self.dataset, self.split, self.k_pr, self.k_dc = dataset, split, k_pr, k_dc
        self.min_share, self.batch_size = min_share, batch_size
        self.device = get_device("auto" if device is None else device)
        self.image_shape = dataset_info(dataset).shape  # (C, H, W)
        if isinstance(classifier, DigitClassifier):
            self.classifier = classifier.eval().requires_grad_(False).to(self.device)
        else:
            self.classifier = load_classifier(dataset, classifier, device=self.device)
        self.num_classes = self.classifier.config.num_classes
        real = load_dataset(dataset, split)
        self.real_features_, self.real_pred_ = self._embed(real.images)  # (N, D) float64, (N,)
        self.real_mu_, self.real_sigma_ = feature_stats(self.real_features_)  # (D,), (D, D)
        self.real_radii_pr_ = knn_radii(self.real_features_, k_pr)  # (N,)
        self.real_radii_dc_ = knn_radii(self.real_features_, k_dc)  # (N,)

    @torch.no_grad()
    def _embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (N, D) float64 on the CPU and predicted classes (N,) of validated images."""
        feats, preds = [], []
        for i in range(0, len(images), self.batch_size):
            x = images[i : i + self.batch_size].to(self.device, non_blocking=True)  # (B, C, H, W)
            f = self.classifier.features(x)  # (B, D)
            preds.append(self.classifier.head(f).argmax(1).cpu())
            feats.append(f.double().cpu())
        return torch.cat(feats), torch.cat(preds)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Classifier features of (N, C, H, W) images in [0, 1]: (N, D) float64."""
        return self._embed(check_images(images, self.image_shape))[0]

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted classes of (N, C, H, W) images in [0, 1]: (N,) int64."""
        return self._embed(check_images(images, self.image_shape))[1]

    def fid(self, images: torch.Tensor) -> float:
        """FID of (N, C, H, W) images in [0, 1] (N >= 2) against the real split."""
        images = check_images(images, self.image_shape)
        if len(images) < 2:
            raise ValueError(f"FID needs at least 2 images, got {len(images)}")
        mu, sigma = feature_stats(self._embed(images)[0])
        return frechet_distance(self.real_mu_, self.real_sigma_, mu, sigma)

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, float | int]:
        """Every metric of (N, C, H, W) generated images in [0, 1].

        Args:
            images: samples, N > max(k_pr, k_dc) (1,000 or more recommended).
            labels: (N,) requested classes for a class-conditional generator, or None.

        Returns:
            ``fid``, ``precision``, ``recall``, ``density``, ``coverage``, ``classes_covered`` (int),
            ``class_kl`` (nats), and ``cond_accuracy`` when ``labels`` are given.
        """
        images = check_images(images, self.image_shape)
        k = max(self.k_pr, self.k_dc)
        if len(images) <= k:
            raise ValueError(f"`images` has {len(images)} samples; k-NN metrics need more than {k}")
        if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != (len(images),)):
            shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
            raise ValueError(f"`labels` must be a ({len(images)},) tensor, one per image, got {shape}")
        feats, pred = self._embed(images)  # (N, D), (N,)
        mu, sigma = feature_stats(feats)
        real = self.real_features_
        precision, recall = precision_recall(real, feats, self.k_pr, real_radii=self.real_radii_pr_)
        density, coverage = density_coverage(real, feats, self.k_dc, real_radii=self.real_radii_dc_)
        out = {
            "fid": frechet_distance(self.real_mu_, self.real_sigma_, mu, sigma),
            "precision": precision, "recall": recall, "density": density, "coverage": coverage,
            "classes_covered": classes_covered(pred, self.num_classes, self.min_share),
            "class_kl": class_kl(pred, self.num_classes),
        }
        if labels is not None:
            out["cond_accuracy"] = conditional_accuracy(pred, labels.cpu(), self.num_classes)
        return out

    def __repr__(self) -> str:
        n, d = self.real_features_.shape
        return (f"SampleEvaluator(dataset={self.dataset!r}, split={self.split!r}, real={n}, features={d}, "
                f"k_pr={self.k_pr}, k_dc={self.k_dc}, device={self.device})")
