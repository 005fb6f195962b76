"""FID: against torchmetrics (same features), closed forms for Gaussians, and singular covariances."""

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from probgen.data import load_dataset
from probgen.metrics import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    load_classifier,
    sqrtm_psd,
    trace_sqrt_product,
)


def _random_cov(d, gen, rank=None):
    a = torch.randn(d, rank or d, generator=gen, dtype=torch.float64)
    return a @ a.T / d


class _Features64(nn.Module):
    """The metric classifier's features in float64, as torchmetrics' custom feature extractor."""

    def __init__(self):
        super().__init__()
        self.net = load_classifier("mnist-5k")
        self.num_features = self.net.num_features

    def forward(self, x):
        return self.net.features(x).double()


def test_fid_matches_torchmetrics_with_the_same_feature_extractor():
    """Oracle: torchmetrics' FrechetInceptionDistance(feature=<our classifier>) on the same images."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    real = load_dataset("mnist-5k", "test").images  # (1000, 1, 28, 28)
    fake = load_dataset("mnist-5k", "train").images[::8]  # (500, 1, 28, 28), every class
    noisy = (fake + 0.3 * torch.randn_like(fake)).clamp(0, 1)
    extractor = _Features64()
    with torch.no_grad():
        real_f = extractor(real)
        for imgs in (fake, noisy):
            tm = FrechetInceptionDistance(feature=extractor, normalize=True)
            tm.update(real, real=True)
            tm.update(imgs, real=False)
            expected = float(tm.compute())
            ours = fid_from_features(real_f, extractor(imgs))
            # sqrt of the near-zero eigenvalues (dead ReLU units) amplifies round-off in both
            # implementations: sqrt(1e-13) = 3e-7, hence 1e-5 and not 1e-12
            assert ours == pytest.approx(expected, rel=1e-5)


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    """Commuting covariances: W2^2 = |mu1 - mu2|^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2."""
    gen = torch.Generator().manual_seed(1)
    mu1, mu2 = torch.randn(2, 6, generator=gen, dtype=torch.float64)
    v1, v2 = torch.rand(2, 6, generator=gen, dtype=torch.float64) + 0.1
    expected = float((mu1 - mu2).square().sum() + (v1.sqrt() - v2.sqrt()).square().sum())
    assert frechet_distance(mu1, torch.diag(v1), mu2, torch.diag(v2)) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_matches_scipy_sqrtm_for_full_covariances():
    """Oracle: tr(S1 + S2 - 2 sqrtm(S1 S2)) with scipy's general matrix square root."""
    gen = torch.Generator().manual_seed(2)
    s1, s2 = _random_cov(8, gen) + 0.1 * torch.eye(8), _random_cov(8, gen) + 0.1 * torch.eye(8)
    mu1, mu2 = torch.randn(2, 8, generator=gen, dtype=torch.float64)
    root = scipy.linalg.sqrtm(s1.numpy() @ s2.numpy()).real
    expected = float((mu1 - mu2).square().sum()) + np.trace(s1.numpy() + s2.numpy() - 2 * root)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-9)  # symmetric


def test_fid_of_gaussian_samples_converges_to_the_closed_form():
    """Sample estimate vs the exact 1-D value (mu1 - mu2)^2 + (sd1 - sd2)^2, tolerance 0.02 at N = 20,000."""
    gen = torch.Generator().manual_seed(3)
    x = 1.0 + 2.0 * torch.randn(20_000, 1, generator=gen, dtype=torch.float64)
    y = -0.5 + 0.5 * torch.randn(20_000, 1, generator=gen, dtype=torch.float64)
    assert fid_from_features(x, y) == pytest.approx(1.5**2 + 1.5**2, abs=0.02)


def test_sqrtm_psd_squares_back_and_survives_rank_deficiency():
    gen = torch.Generator().manual_seed(4)
    for rank in (10, 3):
        s = _random_cov(10, gen, rank)
        r = sqrtm_psd(s)
        torch.testing.assert_close(r @ r, s, atol=1e-10, rtol=0)
        assert torch.isfinite(r).all()


def test_fid_is_zero_for_identical_features_even_when_covariance_is_singular():
    """50 samples in 128 dimensions: the covariance has rank 49; the naive sqrtm(S1 S2) goes complex here."""
    f = torch.rand(50, 128, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    # tolerances: the 79 zero eigenvalues come back as +-1e-15 round-off, whose square roots add ~1e-7
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-5)
    mu, s = feature_stats(f)
    assert trace_sqrt_product(s, s) == pytest.approx(float(s.trace()), rel=1e-6)
    # a collapsed generator: every sample identical -> zero covariance, FID = |mu diff|^2 + tr(S_real)
    one = f[:1].expand(20, -1)
    expected = float((f[0] - mu).square().sum() + s.trace())
    assert fid_from_features(f, one) == pytest.approx(expected, rel=1e-9)


def test_feature_stats_match_numpy():
    f = np.random.default_rng(6).normal(size=(40, 5))
    mu, s = feature_stats(f)
    np.testing.assert_allclose(mu.numpy(), f.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.numpy(), np.cov(f, rowvar=False), rtol=1e-12)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="at least 2 rows"):
        fid_from_features(torch.zeros(1, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="dimensions differ"):
        fid_from_features(torch.rand(5, 3), torch.rand(5, 4))
    with pytest.raises(ValueError, match="`sigma2` has shape"):
        frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(3), torch.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        fid_from_features(torch.full((5, 3), float("nan")), torch.rand(5, 3))
    with pytest.raises(TypeError, match="torch tensor or numpy array"):
        fid_from_features([[0.0, 1.0]], torch.rand(5, 2))
