"""Sample-quality metrics shared by every generative model (offline: no Inception weights needed).

A small LeNet-like domain classifier, trained on the offline data set and shipped with the package,
provides the features; on them: FID, precision/recall, density/coverage, class coverage and
conditional accuracy. Most users need only :class:`SampleEvaluator`::

    from probgen.metrics import SampleEvaluator
    ev = SampleEvaluator("mnist-5k", split="test")
    ev.evaluate(images)  # images (N, 1, 28, 28) in [0, 1] -> {"fid": ..., "precision": ..., ...}
"""

from probgen.metrics.classifier import DigitClassifier, load_classifier, train_classifier
from probgen.metrics.coverage import class_histogram, class_kl, classes_covered, conditional_accuracy
from probgen.metrics.evaluator import SampleEvaluator, check_images
from probgen.metrics.fid import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    sqrtm_psd,
    trace_sqrt_product,
)
from probgen.metrics.prdc import density_coverage, expected_coverage, knn_radii, precision_recall

__all__ = [
    "DigitClassifier",
    "SampleEvaluator",
    "check_images",
    "class_histogram",
    "class_kl",
    "classes_covered",
    "conditional_accuracy",
    "density_coverage",
    "expected_coverage",
    "feature_stats",
    "fid_from_features",
    "frechet_distance",
    "knn_radii",
    "load_classifier",
    "precision_recall",
    "sqrtm_psd",
    "trace_sqrt_product",
    "train_classifier",
]
