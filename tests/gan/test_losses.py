"""Losses against their closed forms, the saturating vs non-saturating gradients, penalties, DiffAugment."""

import math

import pytest
import torch

from probgen.gan.diffaugment import check_policy, cutout, diff_augment, translation
from probgen.gan.losses import LOSSES, GANLoss, get_loss, gradient_penalty, minimax_objective, r1_penalty


def test_unknown_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown loss 'lsgan'.*'minimax', 'non-saturating', 'hinge'"):
        get_loss("lsgan")


def test_losses_match_closed_forms():
    r, f = torch.tensor([2.0, -0.5, 0.3]), torch.tensor([-1.0, 0.7, 0.1])
    D = torch.sigmoid
    minimax_j = (torch.log(D(r)).mean() + torch.log(1 - D(f)).mean()).item()  # J as written
    assert GANLoss("minimax").d_loss(r, f).item() == pytest.approx(-minimax_j, rel=1e-6)
    assert minimax_objective(r, f).item() == pytest.approx(minimax_j, rel=1e-6)
    assert GANLoss("minimax").g_loss(f).item() == pytest.approx(torch.log(1 - D(f)).mean().item(), rel=1e-6)
    assert GANLoss("non-saturating").d_loss(r, f).item() == pytest.approx(-minimax_j, rel=1e-6)
    nonsat_g = -torch.log(D(f)).mean().item()
    assert GANLoss("non-saturating").g_loss(f).item() == pytest.approx(nonsat_g, rel=1e-6)
    hinge_d = (torch.relu(1 - r).mean() + torch.relu(1 + f).mean()).item()
    assert GANLoss("hinge").d_loss(r, f).item() == pytest.approx(hinge_d, rel=1e-6)
    assert GANLoss("hinge").g_loss(f).item() == pytest.approx(-f.mean().item(), rel=1e-6)
    assert GANLoss("wgan-gp").d_loss(r, f).item() == pytest.approx((f.mean() - r.mean()).item(), rel=1e-6)
    assert GANLoss("wgan-gp").needs_penalty and not GANLoss("hinge").needs_penalty


@pytest.mark.parametrize("name", LOSSES)
def test_patch_maps_are_averaged(name):
    r, f = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    loss = GANLoss(name)
    assert loss.d_loss(r, f).item() == pytest.approx(loss.d_loss(r.flatten(), f.flatten()).item(), rel=1e-6)
    assert loss.g_loss(f).item() == pytest.approx(loss.g_loss(f.flatten()).item(), rel=1e-6)


def test_generator_gradients_near_d_of_fake_zero():
    """Oracle: d/dl log(1 - sigmoid(l)) = -sigmoid(l) (vanishes), d/dl -log sigmoid(l) = sigmoid(l) - 1."""
    logit = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) = 4.5e-5: D rejects the fake
    p = torch.sigmoid(logit).item()
    (g_minimax,) = torch.autograd.grad(GANLoss("minimax").g_loss(logit), logit)
    (g_nonsat,) = torch.autograd.grad(GANLoss("non-saturating").g_loss(logit), logit)
    assert g_minimax.item() == pytest.approx(-p, rel=1e-4) and abs(g_minimax.item()) < 1e-4
    assert g_nonsat.item() == pytest.approx(p - 1, rel=1e-4) and abs(g_nonsat.item()) > 0.9999
    # Both push the logit up (descent increases D(G(z))), at rates 1 / D(G(z)) apart.
    assert g_minimax.item() < 0 and g_nonsat.item() < 0
    assert g_nonsat.item() / g_minimax.item() == pytest.approx((1 - p) / p, rel=1e-3)


def test_generator_gradients_through_a_generator():
    """The same contrast one step upstream: G(z) = a z with a fixed linear D that rejects it."""
    a = torch.tensor(1.0, requires_grad=True)
    z, w = torch.ones(8, 1), torch.tensor(-10.0)

    def grad_of(name):
        (g,) = torch.autograd.grad(GANLoss(name).g_loss((a * z * w).flatten()), a)
        return g.item()

    p = torch.sigmoid(torch.tensor(-10.0)).item()
    assert grad_of("minimax") == pytest.approx(-p * -10.0, rel=1e-4)  # d/da = -sigmoid(l) * w
    assert grad_of("non-saturating") == pytest.approx((p - 1) * -10.0, rel=1e-4)


def test_gradient_penalty_and_r1_on_a_linear_critic():
    """Oracle: for l(x) = <w, x>, grad_x l = w everywhere: GP = lambda (|w| - 1)^2, R1 = gamma/2 |w|^2."""
    w = torch.randn(1, 2, 3, 3)

    def critic(x, y=None):
        return (x * w).flatten(1).sum(1)

    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    norm = w.norm().item()
    gp = gradient_penalty(critic, real, fake, weight=10.0).item()
    assert gp == pytest.approx(10 * (norm - 1) ** 2, rel=1e-5)
    real.requires_grad_(True)
    assert r1_penalty(critic(real), real, gamma=4.0).item() == pytest.approx(2.0 * norm**2, rel=1e-5)
    with pytest.raises(ValueError, match="require grad"):
        r1_penalty(critic(fake), fake)


def test_penalties_are_differentiable_in_the_critic():
    w = torch.randn(1, 1, 2, 2, requires_grad=True)

    def critic(x, y=None):
        return (x * w).flatten(1).sum(1)

    gp = gradient_penalty(critic, torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2), weight=1.0)
    (g,) = torch.autograd.grad(gp, w)  # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    n = w.norm()
    torch.testing.assert_close(g, (2 * (n - 1) * w / n).detach(), rtol=1e-4, atol=1e-6)


def test_diff_augment():
    x = torch.rand(6, 3, 16, 16, requires_grad=True)
    assert diff_augment(x, "") is x
    y = diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # differentiable
    torch.manual_seed(0)
    a = diff_augment(x.detach(), "color,translation")
    torch.manual_seed(0)
    assert torch.equal(a, diff_augment(x.detach(), "color,translation"))
    with pytest.raises(ValueError, match=r"unknown augmentations \['flip'\]"):
        check_policy("color,flip")


def test_translation_shifts_and_cutout_zeroes_a_square():
    img = torch.zeros(64, 1, 16, 16)
    img[:, :, 8, 8] = 1.0  # one bright pixel in the middle: shifts of at most 2 keep it inside
    moved = translation(img)
    assert torch.equal(moved.sum((1, 2, 3)), torch.ones(64))
    pos = moved[:, 0].flatten(1).argmax(1)
    dy, dx = pos // 16 - 8, pos % 16 - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2 and len(set(zip(dy.tolist(), dx.tolist()))) > 5
    zeros = (cutout(torch.ones(64, 1, 16, 16)) == 0).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() > 0  # an 8x8 square, cut off at the border at worst
    assert math.isclose(float(zeros.float().mean()), 64, rel_tol=0.5)
