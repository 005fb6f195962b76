"""The reverse-process samplers.

Oracles: Ho et al.'s Algorithm 2 written out as in the paper; the identity DDIM(eta = 1) = DDPM; and, for
Gaussian data, the exact noise predictor E[eps | x_t] in closed form, with which both samplers must
reproduce the data distribution.
"""

import pytest
import torch
from torch import nn

from probgen.diffusion import DDPM, ddim_step, ddpm_mean_var, timestep_sequence


def test_posterior_mean_equals_algorithm_2():
    """Unclipped, mu~(x_t, x0_hat) = (x_t - beta_t / sqrt(1 - ab_t) eps) / sqrt(alpha_t) (Alg. 2)."""
    ddpm = DDPM(x_shape=(1, 4, 4), timesteps=100, base_channels=8, channel_mults=(1,))
    s = ddpm.schedule
    x_t, eps = torch.randn(5, 1, 4, 4), torch.randn(5, 1, 4, 4)
    for t in (99, 50, 1):
        mean, var = ddpm_mean_var(x_t, eps, s.alpha_bar[t], s.alpha_bar[t - 1], clip=False)
        alg2 = (x_t - s.betas[t] / (1 - s.alpha_bar[t]).sqrt() * eps) / s.alphas[t].sqrt()
        assert torch.allclose(mean, alg2, atol=1e-5)
        assert torch.allclose(var, s.posterior_variance[t])


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("steps", [None, 7])
def test_ddim_with_eta_one_is_the_ancestral_step(clip, steps):
    """On all T steps and on a respaced subsequence alike."""
    ddpm = DDPM(x_shape=(1, 8, 8), timesteps=40, base_channels=8, channel_mults=(1, 2), clip_denoised=clip)
    torch.manual_seed(3)
    a = ddpm.sample(6, steps, method="ddpm")
    torch.manual_seed(3)
    b = ddpm.sample(6, steps, method="ddim", eta=1.0)
    assert torch.allclose(a, b, atol=1e-5)


def test_ddim_eta_zero_is_deterministic_given_x_T():
    ddpm = DDPM(x_shape=(1, 8, 8), timesteps=40, base_channels=8, channel_mults=(1, 2))
    x_t, eps = torch.randn(3, 1, 8, 8), torch.randn(3, 1, 8, 8)
    ab = ddpm.schedule.alpha_bar
    torch.manual_seed(0)
    one = ddim_step(x_t, eps, ab[30], ab[20], clip=False, last=False, eta=0.0)
    torch.manual_seed(1)
    two = ddim_step(x_t, eps, ab[30], ab[20], clip=False, last=False, eta=0.0)
    assert torch.equal(one, two)


@pytest.mark.parametrize("T,steps", [(1000, None), (1000, 50), (1000, 1), (7, 7), (10, 3)])
def test_timestep_sequence(T, steps):
    seq = timestep_sequence(T, steps)
    assert len(seq) == (steps or T)
    assert seq[0] == T - 1 and (len(seq) == 1 or seq[-1] == 0)
    assert bool((seq[1:] < seq[:-1]).all())


def test_bad_steps_name_the_argument():
    with pytest.raises(ValueError, match="`steps`"):
        timestep_sequence(100, 101)
    ddpm = DDPM(x_shape=(1, 8, 8), timesteps=10, base_channels=8, channel_mults=(1,))
    with pytest.raises(ValueError, match="`method`='euler'"):
        ddpm.sample(2, method="euler")
    with pytest.raises(ValueError, match="`n`"):
        ddpm.sample(0)


class GaussianEps(nn.Module):
    """The exact noise predictor E[eps | x_t] when every pixel of x_0 is N(m, s^2) independently."""

    def __init__(self, alpha_bar: torch.Tensor, m: float, s: float) -> None:
        super().__init__()
        self.alpha_bar, self.m, self.s = alpha_bar, m, s
        self.anchor = nn.Parameter(torch.zeros(()))  # gives the module a device

    def forward(self, x, t, y=None):
        ab = self.alpha_bar[t].reshape(-1, 1, 1, 1)
        return (1 - ab).sqrt() / (ab * self.s**2 + 1 - ab) * (x - ab.sqrt() * self.m)


def _gaussian_ddpm(schedule: str, m: float, s: float) -> DDPM:
    ddpm = DDPM(x_shape=(1, 4, 6), timesteps=1000, schedule=schedule, base_channels=8, channel_mults=(1,),
                clip_denoised=False)
    ddpm.net = GaussianEps(ddpm.schedule.alpha_bar, m, s)
    return ddpm


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("method", ["ddpm", "ddim"])
def test_samplers_recover_gaussian_data_with_the_exact_noise_predictor(schedule, method):
    """x_0 ~ N(m, s^2) in the [-1, 1] space; all T = 1000 steps: samples have mean m and sd s.

    Tolerance 0.01: the Monte-Carlo error of 24,000 draws is about 0.002; the rest allows for the time
    discretisation (with the exact eps, the ancestral step's variance beta~ still under-disperses by a
    little, which vanishes as T grows; measured sd 0.296-0.298 for s = 0.3).
    """
    m, s = 0.2, 0.3  # [0, 1] space: mean 0.6, sd 0.15, so clamping to [0, 1] never acts in practice
    x = _gaussian_ddpm(schedule, m, s).sample(1000, method=method, batch_size=1000) * 2 - 1
    assert x.mean().item() == pytest.approx(m, abs=0.01)
    assert x.std().item() == pytest.approx(s, abs=0.01)


@pytest.mark.parametrize("method", ["ddpm", "ddim"])
def test_fewer_steps_only_add_discretisation_error(method):
    """With 250 and 50 of the 1,000 steps the sd error grows as the steps get coarser, but stays small
    (measured: DDIM 0.001, 0.003, 0.014; respaced ancestral 0.003, 0.008, 0.025)."""
    m, s = 0.2, 0.3
    ddpm = _gaussian_ddpm("cosine", m, s)
    errs = []
    for steps in (1000, 250, 50):
        torch.manual_seed(0)
        x = ddpm.sample(1000, steps, method=method, batch_size=1000) * 2 - 1
        assert x.mean().item() == pytest.approx(m, abs=0.01)
        errs.append(abs(x.std().item() - s))
    assert errs[0] < errs[1] < errs[2] < 0.03, errs
