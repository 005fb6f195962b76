"""The trivial editing baselines: shapes, consistency with the observation, and exact oracles."""

import pytest
import torch

from probgen.editing import Downsample, Grayscale, task_operator
from probgen.editing.baselines import BASELINES, baseline_complete, baselines_for
from probgen.errors import ProbgenError

SHAPES = {"inpaint-center": (1, 28, 28), "uncrop-right": (1, 28, 28), "superres4": (3, 28, 28),
          "colorize": (3, 28, 28)}


def _images(n, shape, seed):
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("task", list(SHAPES))
def test_every_applicable_baseline_has_the_sampler_shape_and_range(task):
    shape = SHAPES[task]
    op, train, x = task_operator(task, shape), _images(50, shape, 0), _images(4, shape, 1)
    y = op.apply(x)
    for name in baselines_for(op):
        out = baseline_complete(name, y, op, train, num_samples=3)
        assert out.shape == (3, 4, *shape), name
        assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("task", ["inpaint-center", "uncrop-right"])
def test_mean_fill_keeps_the_observed_pixels_and_fills_in_the_mean(task):
    op, train, x = task_operator(task, (1, 28, 28)), _images(40, (1, 28, 28), 0), _images(3, (1, 28, 28), 1)
    out = baseline_complete("mean", op.apply(x), op, train)[0]  # (3, 1, 28, 28)
    seen = op.observed((1, 28, 28))
    assert torch.allclose(out[:, seen], x[:, seen], atol=1e-6)
    assert torch.allclose(out[:, ~seen], train.mean(0)[~seen].expand(3, -1), atol=1e-6)


def test_nearest_neighbour_finds_a_training_image_exactly():
    train = _images(60, (3, 28, 28), 0)
    for task in SHAPES:
        op = task_operator(task, (3, 28, 28))
        out = baseline_complete("nearest", op.apply(train[[7, 42]]), op, train, num_samples=2)
        assert torch.allclose(out[0], train[[7, 42]], atol=1e-5), task  # the nearest is itself
        assert not torch.allclose(out[1], train[[7, 42]], atol=1e-2), task  # the second is another one


def test_mean_and_nearest_are_consistent_with_the_observation():
    # smooth images, so that the projection onto A x = y stays inside [0, 1] and the clamp changes nothing
    train = 0.25 + 0.5 * _images(30, (3, 28, 28), 0)
    x = 0.25 + 0.5 * _images(2, (3, 28, 28), 1)
    for task in SHAPES:
        op = task_operator(task, (3, 28, 28))
        y = op.apply(x)
        for name in ("mean", "nearest"):
            out = baseline_complete(name, y, op, train, num_samples=2)
            assert torch.allclose(op.apply(out.flatten(0, 1)), y.repeat(2, 1, 1, 1), atol=1e-5), (task, name)


def test_bicubic_and_luminance_copy():
    const = torch.full((2, 3, 28, 28), 0.3)
    up = baseline_complete("bicubic", Downsample(4).apply(const), Downsample(4))
    assert up.shape == (1, 2, 3, 28, 28) and torch.allclose(up, const[None], atol=1e-6)
    x = _images(2, (3, 28, 28), 1)
    y = Grayscale().apply(x)
    grey = baseline_complete("luminance", y, Grayscale(), num_samples=2)
    assert torch.equal(grey[:, :, 0], grey[:, :, 2]) and torch.equal(grey[0, :, :1], y)
    assert torch.allclose(Grayscale().apply(grey[1]), y, atol=1e-6)  # luma weights sum to 1


def test_bad_input_names_the_argument():
    op = task_operator("inpaint-center", (1, 28, 28))
    y = op.apply(_images(2, (1, 28, 28), 1))
    with pytest.raises(ProbgenError, match="'median' is not a baseline"):
        baseline_complete("median", y, op, _images(5, (1, 28, 28), 0))
    with pytest.raises(ProbgenError, match="'bicubic' does not apply to Mask"):
        baseline_complete("bicubic", y, op)
    with pytest.raises(ProbgenError, match="'mean' needs `train`"):
        baseline_complete("mean", y, op)
    with pytest.raises(ProbgenError, match="`y` has shape"):
        baseline_complete("mean", y[:, :, :14], op, _images(5, (1, 28, 28), 0))
    with pytest.raises(ProbgenError, match="`num_samples`=9 nearest neighbours"):
        baseline_complete("nearest", y, op, _images(5, (1, 28, 28), 0), num_samples=9)
    assert set(BASELINES) == {"mean", "nearest", "bicubic", "luminance"}
