"""Class coverage, class KL and conditional accuracy, against hand-computed values."""

import math

import pytest
import torch

from probgen.metrics import class_histogram, class_kl, classes_covered, conditional_accuracy


def test_uniform_and_single_class():
    uniform = torch.arange(1000) % 10
    single = torch.full((1000,), 3)
    assert classes_covered(uniform) == 10 and classes_covered(single) == 1
    assert class_kl(uniform) == pytest.approx(0.0, abs=1e-12)
    assert class_kl(single) == pytest.approx(math.log(10), rel=1e-12)


def test_two_even_classes_kl_is_log5():
    pred = torch.tensor([0, 7] * 50)
    assert class_kl(pred) == pytest.approx(math.log(10) - math.log(2), rel=1e-12)
    torch.testing.assert_close(class_histogram(pred)[[0, 7]], torch.tensor([0.5, 0.5], dtype=torch.float64))


def test_stray_samples_do_not_count_as_covered():
    """1000 samples, threshold 0.1 * 1000 / 10 = 10: a class with 9 samples is not covered, one with 10 is."""
    pred = torch.cat([torch.zeros(981, dtype=torch.long), torch.full((9,), 1), torch.full((10,), 2)])
    assert classes_covered(pred) == 2
    assert classes_covered(pred, min_share=0.0) == 3  # any single sample counts


def test_conditional_accuracy():
    labels = torch.arange(100) % 10
    pred = labels.clone()
    pred[:25] = (pred[:25] + 1) % 10
    assert conditional_accuracy(pred, labels) == pytest.approx(0.75)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match=r"outside \[0, 9\]"):
        classes_covered(torch.tensor([0, 10]))
    with pytest.raises(TypeError, match="integer class indices"):
        class_kl(torch.rand(5))
    with pytest.raises(ValueError, match="`labels` has 3 entries but there are 4 images"):
        conditional_accuracy(torch.zeros(4, dtype=torch.long), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="`min_share`"):
        classes_covered(torch.zeros(4, dtype=torch.long), min_share=2)
