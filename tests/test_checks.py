"""probgen.checks (scalars, choices, num_classes, config dicts; no torch) and probgen.checks_torch (one
image-batch check and one label check for every family)."""

import dataclasses

import numpy as np
import pytest
import torch

from probgen.checks import (
    check_choice,
    check_float,
    check_int,
    check_ints,
    check_num_classes,
    check_probability,
    config_from_dict,
)
from probgen.checks_torch import check_image_batch, check_labels


def test_check_int():
    assert check_int("n", 3, 1) == 3 and check_int("n", np.int64(4), 1, 4) == 4
    with pytest.raises(ValueError, match=r"`n` must be an int >= 1, got 0"):
        check_int("n", 0, 1)
    with pytest.raises(ValueError, match=r"`n` must be an int in \[1, 4\], got 5"):
        check_int("n", 5, 1, 4)
    for bad in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match=r"`n` must be an int"):
            check_int("n", bad, 1)


def test_check_ints():
    assert check_ints("x_shape", [1, 8, 8], 1, length=3) == (1, 8, 8)
    assert check_ints("hidden", (), 1, empty_ok=True) == ()
    for bad in ((1, 8), (1, 0, 8), (1.0, 8, 8), "188", None):
        with pytest.raises(ValueError, match=r"`x_shape` must be 3 ints >= 1, got "):
            check_ints("x_shape", bad, 1, length=3)
    with pytest.raises(ValueError, match=r"`widths` must be a non-empty tuple of ints >= 1, got \(\)"):
        check_ints("widths", (), 1)


def test_check_float_and_probability():
    assert check_float("lr", 1, 0, low_open=True) == 1.0
    for bad in (0.0, float("nan"), float("inf"), -1e-3):
        with pytest.raises(ValueError, match=r"`lr` must be a finite number in \(0, inf\)"):
            check_float("lr", bad, 0, low_open=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\), got 1.0"):
        check_float("beta", 1.0, 0, 1, high_open=True)
    with pytest.raises(TypeError, match="must be a number"):
        check_float("lr", "0.1")
    assert check_probability("p", 0.25) == 0.25
    with pytest.raises(ValueError, match=r"`p` must be a finite number in \[0, 1\]"):
        check_probability("p", 1.5)


def test_check_choice_and_num_classes():
    assert check_choice("loss", "hinge", ["hinge", "wgan-gp"]) == "hinge"
    with pytest.raises(ValueError, match=r"`loss`='wgan' is not one of \['hinge', 'wgan-gp'\]; did you mean"):
        check_choice("loss", "wgan", ["hinge", "wgan-gp"])
    assert check_num_classes(None) is None and check_num_classes(1) == 1
    with pytest.raises(ValueError, match=r"`num_classes`=0: in probgen an unconditional model has `num_cl"):
        check_num_classes(0)
    with pytest.raises(ValueError, match=r"`num_classes` must be an int >= 1, got -2"):
        check_num_classes(-2)


@dataclasses.dataclass
class Small:
    z_dim: int = 2
    lr: float = 0.1


def test_config_from_dict_refuses_unknown_keys_with_a_hint():
    assert config_from_dict(Small, {"z_dim": 3}) == Small(3) and config_from_dict(Small, None) == Small()
    with pytest.raises(ValueError, match=r"unknown Small key 'zdim'; did you mean 'z_dim'\?"):
        config_from_dict(Small, {"zdim": 3})
    with pytest.raises(ValueError, match=r"unknown Small key 'colour'; known keys: \['z_dim', 'lr'\]"):
        config_from_dict(Small, {"colour": 1})
    with pytest.raises(TypeError, match="must be built from a dict"):
        config_from_dict(Small, [("z_dim", 3)])


SHAPE = (1, 4, 4)


@pytest.mark.parametrize("x, error, match", [
    ([[0.0]], TypeError, r"`x` must be a torch.Tensor of shape \(B, 1, 4, 4\), got list"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), TypeError, r"floating-point tensor.*x.float\(\) / 255"),
    (torch.zeros(2, 1, 4, 4, dtype=torch.float64), TypeError,
     r"dtype torch.float64 but the model computes in torch.float32; converting would round"),
    (torch.zeros(1, 4, 4), ValueError, r"one image without a batch dimension: pass x.unsqueeze\(0\)"),
    (torch.zeros(2, 4, 4), ValueError, r"add the channel axis with x.unsqueeze\(1\)"),
    (torch.zeros(2, 3, 4, 4), ValueError, r"the model was built for 1 channel"),
    (torch.zeros(2, 1, 5, 4), ValueError, r"`x` has shape \(2, 1, 5, 4\) but the model takes images of shape "
                                          r"\(B, 1, 4, 4\)$"),
    (torch.zeros(0, 1, 4, 4), ValueError, "empty batch"),
    (torch.full((2, 1, 4, 4), float("nan")), ValueError, r"contains 32 NaN or infinite value\(s\)"),
    (torch.full((2, 1, 4, 4), 200.0), ValueError, r"in \[0, 1\].*0..255 pixels: pass x / 255"),
    (torch.full((2, 1, 4, 4), -0.5), ValueError, r"tanh outputs in \[-1, 1\]: pass \(x \+ 1\) / 2"),
    (torch.full((2, 1, 4, 4), -3.0), ValueError, r"rescale them to \[0, 1\]"),
])
def test_image_batch_errors_name_the_argument_and_the_fix(x, error, match):
    with pytest.raises(error, match=match):
        check_image_batch(x, SHAPE, dtype=torch.float32, value_range=(0.0, 1.0))


def test_image_batch_accepts_and_skips_what_it_should():
    x = torch.rand(2, 1, 4, 4)
    assert check_image_batch(x, SHAPE, value_range=(0.0, 1.0)) is x
    assert check_image_batch(x + 1e-4, SHAPE, value_range=(0.0, 1.0), tol=1e-3) is not None  # round-off
    nan = torch.full((2, 1, 4, 4), float("nan"))
    assert check_image_batch(nan, SHAPE, finite=False) is nan  # no pass over the values at all
    with torch.autocast("cpu", dtype=torch.bfloat16):  # mixed dtypes are autocast's business
        check_image_batch(x.bfloat16(), SHAPE, dtype=torch.float32, finite=False)
    with pytest.raises(ValueError, match="the 'bernoulli' likelihood needs"):
        check_image_batch(x * 2, SHAPE, value_range=(0.0, 1.0), range_hint="the 'bernoulli' likelihood needs")


def test_labels():
    assert check_labels(None, None, 3) is None
    assert check_labels(2, 5, 3).tolist() == [2, 2, 2]
    y = torch.tensor([0, 4, 1], dtype=torch.int32)
    assert check_labels(y, 5, 3) is y
    with pytest.raises(ValueError, match=r"`y` \(labels\) was given but this model is unconditional"):
        check_labels(y, None, 3)
    with pytest.raises(ValueError, match=r"this model is class-conditional \(`num_classes`=5\) and needs "
                                         r"labels: pass `y`, a \(3,\) integer tensor"):
        check_labels(None, 5, 3)
    with pytest.raises(TypeError, match=r"integer class labels, got dtype torch.float32; use y.long\(\)"):
        check_labels(torch.zeros(3), 5, 3)
    with pytest.raises(TypeError, match=r"integer class labels, got dtype torch.bool"):
        check_labels(torch.zeros(3, dtype=torch.bool), 5, 3)
    with pytest.raises(ValueError, match=r"`y` has shape \(2,\) but the batch has 3 entries"):
        check_labels(torch.zeros(2, dtype=torch.long), 5, 3)
    with pytest.raises(ValueError, match=r"holds labels in \[0, 5\] but the GAN has 5 classes"):
        check_labels(torch.tensor([0, 5, 1]), 5, 3, who="the GAN")
