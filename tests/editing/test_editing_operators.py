"""Operators against their dense matrices: adjoint, pseudo-inverse (torch.linalg.pinv), variance map
(diag(A diag(v) A^T)), composition, the tasks, and every bad input."""

import pytest
import torch

from probgen.editing import TASKS, Compose, Downsample, Grayscale, Mask, check_observation, task_operator
from probgen.errors import ProbgenError

SHAPE = (3, 4, 4)


def dense(op, shape=SHAPE):
    """The matrix of ``op`` on flattened (C, H, W) images, in float64."""
    n = torch.tensor(shape).prod().item()
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
    return op.apply(basis).reshape(n, -1).T  # (m, n)


def ops():
    g = torch.Generator().manual_seed(0)
    m = torch.rand(4, 4, generator=g) > 0.4
    low = torch.rand(1, 2, 2, generator=g) > 0.3
    return {"mask": Mask(m), "mask-c": Mask(torch.rand(3, 4, 4, generator=g) > 0.5), "down2": Downsample(2),
            "gray": Grayscale(), "gray@down": Grayscale() @ Downsample(2),
            "mask@down": Mask(low) @ Downsample(2), "mask@gray": Compose(Mask(m), Grayscale())}


@pytest.mark.parametrize("key", list(ops()))
def test_adjoint_pinv_variance_match_dense(key):
    op = ops()[key]
    A = dense(op)  # (m, n)
    out = op.shape_out(SHAPE)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, *SHAPE, generator=g, dtype=torch.float64)
    y = torch.rand(2, *out, generator=g, dtype=torch.float64)
    assert op.apply(x).shape == (2, *out)
    torch.testing.assert_close(op.apply(x).reshape(2, -1), x.reshape(2, -1) @ A.T)
    torch.testing.assert_close(op.adjoint(y).reshape(2, -1), y.reshape(2, -1) @ A)
    torch.testing.assert_close(op.pinv(y).reshape(2, -1), y.reshape(2, -1) @ torch.linalg.pinv(A).T,
                               atol=1e-9, rtol=1e-7)
    v = torch.rand(2, *SHAPE, generator=g, dtype=torch.float64)
    want = torch.stack([torch.diagonal(A @ torch.diag(vi.flatten()) @ A.T) for vi in v])
    torch.testing.assert_close(op.variance(v).reshape(2, -1), want)


def test_pinv_float32_consistency():
    op = Mask(torch.rand(1, 2, 2) > 0.3) @ Downsample(2)
    x = torch.rand(5, *SHAPE)
    y = op.apply(x)
    assert (op.apply(op.pinv(y)) - y).abs().max() < 1e-5


def test_mask_accepts_01_and_broadcasts():
    m = torch.zeros(1, 1, 4, 4)
    m[..., :2] = 1
    op = Mask(m)
    x = torch.rand(3, *SHAPE)
    assert torch.equal(op.apply(x)[..., 2:], torch.zeros(3, 3, 4, 2))
    assert torch.equal(op.apply(x)[..., :2], x[..., :2])
    assert op.observed(SHAPE).shape == SHAPE


@pytest.mark.parametrize("name", list(TASKS))
def test_tasks(name):
    shape = (3, 28, 28)
    op = task_operator(name, shape)
    x = torch.rand(2, *shape)
    want = {"superres4": (3, 7, 7), "colorize": (1, 28, 28)}.get(name, shape)
    assert op.apply(x).shape == (2, *want)
    if name == "inpaint-center":
        m = op.observed(shape)
        assert not m[:, 7:21, 7:21].any() and m.sum() == 3 * (784 - 196)
    if name == "uncrop-right":
        m = op.observed(shape)
        assert m[:, :, :14].all() and not m[:, :, 14:].any()


def test_bad_inputs_name_the_argument():
    with pytest.raises(ProbgenError, match="`mask`.*0 and 1"):
        Mask(torch.full((4, 4), 0.5))
    with pytest.raises(TypeError, match="`mask`"):
        Mask([[True]])
    with pytest.raises(ProbgenError, match="`mask` has shape"):
        Mask(torch.ones(5, 5, dtype=torch.bool)).shape_out(SHAPE)
    with pytest.raises(ProbgenError, match="`mask` must have shape"):
        Mask(torch.ones(2, 3, 4, 4, dtype=torch.bool))
    with pytest.raises(ProbgenError, match="`factor`=3 does not divide"):
        Downsample(3).shape_out((1, 28, 28))
    with pytest.raises(ValueError, match="`factor`"):
        Downsample(0)
    with pytest.raises(ProbgenError, match="3-channel"):
        Grayscale().shape_out((1, 28, 28))
    with pytest.raises(ProbgenError, match="3-channel"):
        task_operator("colorize", (1, 28, 28))
    with pytest.raises(ValueError, match="did you mean 'superres4'"):
        task_operator("superres", (1, 28, 28))
    with pytest.raises(ProbgenError, match="`y` has shape"):
        check_observation(Downsample(4), torch.zeros(2, 1, 28, 28), (1, 28, 28))
    with pytest.raises(TypeError, match="`operator`"):
        check_observation("mask", torch.zeros(2, 1, 28, 28), (1, 28, 28))


@pytest.mark.parametrize("key", list(ops()))
def test_leading_dims(key):
    op = ops()[key]
    x = torch.rand(2, 3, *SHAPE, dtype=torch.float64)
    y = op.apply(x)
    assert y.shape == (2, 3, *op.shape_out(SHAPE))
    torch.testing.assert_close(y[1], op.apply(x[1]))
    torch.testing.assert_close(op.pinv(y)[1], op.pinv(y[1]))
    torch.testing.assert_close(op.adjoint(y)[0], op.adjoint(y[0]))
