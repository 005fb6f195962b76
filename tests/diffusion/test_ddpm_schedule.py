"""The noise schedules and the forward process q(x_t | x_0).

Oracles: the closed forms of Ho et al. (eq. 4) and Nichol and Dhariwal (eq. 17), and simulation of the
forward Markov chain one step at a time.
"""

import math

import pytest
import torch

from probgen.diffusion import NoiseSchedule, cosine_betas, linear_betas, make_betas


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("timesteps", [50, 1000])
def test_alpha_bar_is_monotone_and_ends_near_zero(schedule, timesteps):
    s = NoiseSchedule(schedule, timesteps)
    assert s.betas.shape == (timesteps,)
    assert bool((s.betas > 0).all()) and bool((s.betas < 1).all())
    assert bool((s.alpha_bar[1:] < s.alpha_bar[:-1]).all()), "alpha_bar must strictly decrease"
    assert float(s.alpha_bar[0]) > 0.98  # almost no noise at the first step
    assert float(s.alpha_bar[-1]) < 1e-3  # almost pure noise at the last
    assert torch.allclose(s.alpha_bar_prev[1:], s.alpha_bar[:-1]) and float(s.alpha_bar_prev[0]) == 1.0


def test_linear_betas_match_ho_et_al():
    b = linear_betas(1000)
    assert float(b[0]) == pytest.approx(1e-4) and float(b[-1]) == pytest.approx(0.02)
    assert torch.allclose(linear_betas(100), 10 * torch.linspace(1e-4, 0.02, 100, dtype=torch.float64))


def test_cosine_alpha_bar_matches_closed_form():
    T, s = 200, 0.008
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    alpha_bar = torch.cumprod(1 - cosine_betas(T), 0)
    expected = torch.tensor([f(t) / f(0) for t in range(1, T + 1)], dtype=torch.float64)
    # identical except where the clip at beta = 0.999 acts (the very last step)
    assert torch.allclose(alpha_bar[:-1], expected[:-1], rtol=1e-10, atol=1e-12)


def test_bad_schedule_names_the_argument():
    with pytest.raises(ValueError, match="`schedule`='quadratic'"):
        make_betas("quadratic", 100)
    with pytest.raises(ValueError, match="`timesteps`"):
        make_betas("linear", 1)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_q_sample_matches_closed_form_mean_and_variance(schedule):
    """Empirical mean/variance of 20,000 draws of x_t vs q(x_t | x_0) = N(sqrt(ab) x0, (1 - ab) I)."""
    s = NoiseSchedule(schedule, 100)
    x0 = torch.tensor([-0.9, -0.2, 0.4, 1.0]).reshape(1, 1, 2, 2)
    n = 20_000
    for t in (0, 30, 99):
        tt = torch.full((n,), t)
        xt = s.q_sample(x0.expand(n, 1, 2, 2), tt)  # (n, 1, 2, 2)
        mean, var = s.q_mean_var(x0, tt[:1])
        sd = var.sqrt().item()
        # mean: 5 standard errors; variance: 5 standard errors of a Gaussian sample variance
        assert torch.allclose(xt.mean(0), mean[0], atol=5 * sd / math.sqrt(n))
        assert torch.allclose(xt.var(0), var[0].expand(1, 2, 2), atol=5 * sd**2 * math.sqrt(2 / n))


def test_closed_form_matches_the_step_by_step_markov_chain():
    """Run q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t) for t steps; compare with q(x_t | x_0)."""
    s = NoiseSchedule("linear", 60)
    n, x0 = 20_000, torch.full((1,), 0.7)
    x = x0.expand(n).clone()
    for t in range(60):
        x = (1 - s.betas[t]).sqrt() * x + s.betas[t].sqrt() * torch.randn(n)
        if t in (5, 25, 59):
            mean, var = s.q_mean_var(x0.reshape(1, 1, 1, 1), torch.tensor([t]))
            sd = var.sqrt().item()
            assert x.mean().item() == pytest.approx(mean.item(), abs=5 * sd / math.sqrt(n))
            assert x.var().item() == pytest.approx(var.item(), abs=5 * sd**2 * math.sqrt(2 / n))


def test_predict_x0_inverts_q_sample():
    s = NoiseSchedule("cosine", 100)
    x0, noise = torch.rand(8, 1, 4, 4) * 2 - 1, torch.randn(8, 1, 4, 4)
    t = torch.arange(8) * 12
    assert torch.allclose(s.predict_x0(s.q_sample(x0, t, noise), t, noise), x0, atol=1e-3)
