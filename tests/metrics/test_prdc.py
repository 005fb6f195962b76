"""Precision/recall and density/coverage: a brute-force oracle, closed-form expectations, extreme cases."""

import numpy as np
import pytest
import torch

from probgen.metrics import density_coverage, expected_coverage, knn_radii, precision_recall


def _brute_force(real, fake, k):
    """Literal transcription of the papers' definitions with Python loops (the oracle)."""
    def radii(x):
        return [sorted(np.linalg.norm(x - x[i], axis=1))[k] for i in range(len(x))]  # [0] is the point itself

    def inside(p, centres, r):
        return [np.linalg.norm(p - c) <= rc for c, rc in zip(centres, r)]

    rr, rf = radii(real), radii(fake)
    precision = np.mean([any(inside(f, real, rr)) for f in fake])
    recall = np.mean([any(inside(r, fake, rf)) for r in real])
    density = sum(sum(inside(f, real, rr)) for f in fake) / (k * len(fake))
    coverage = np.mean([min(np.linalg.norm(fake - r, axis=1)) <= rr[i] for i, r in enumerate(real)])
    return precision, recall, density, coverage


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_brute_force_definitions(k):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(60, 4))
    fake = np.concatenate([rng.normal(0.7, 1.3, size=(35, 4)), real[:5]])  # shifted, plus some exact copies
    p, r = precision_recall(real, fake, k)
    d, c = density_coverage(real, fake, k)
    bp, br, bd, bc = _brute_force(real, fake, k)
    assert (p, r, c) == (pytest.approx(bp), pytest.approx(br), pytest.approx(bc))
    assert d == pytest.approx(bd, rel=1e-12)


def test_identical_sets_score_perfectly():
    x = torch.randn(200, 8, dtype=torch.float64)
    assert precision_recall(x, x) == (1.0, 1.0)
    assert density_coverage(x, x)[1] == 1.0


def test_disjoint_sets_score_zero():
    x = torch.randn(200, 8, dtype=torch.float64)
    assert precision_recall(x, x + 100) == (0.0, 0.0)
    assert density_coverage(x, x + 100) == (0.0, 0.0)


def test_same_distribution_matches_naeem_expectations():
    """For i.i.d. real and fake, E[coverage] = 1 - prod (N-i)/(N+M-i) and E[density] = 1 (Naeem et al. 2020).

    Mean over 30 draws of N = M = 300 in 6-D; tolerance 0.01 for coverage (per-draw s.d. ~0.01), 0.05 for
    density.
    """
    gen = torch.Generator().manual_seed(0)
    dens, covs = [], []
    for _ in range(30):
        real = torch.randn(300, 6, generator=gen, dtype=torch.float64)
        fake = torch.randn(300, 6, generator=gen, dtype=torch.float64)
        d, c = density_coverage(real, fake, k=5)
        dens.append(d)
        covs.append(c)
    assert np.mean(covs) == pytest.approx(expected_coverage(300, 300, 5), abs=0.01)
    assert np.mean(dens) == pytest.approx(1.0, abs=0.05)
    assert expected_coverage(10**6, 10**6, 5) == pytest.approx(1 - 2**-5, abs=1e-5)


def test_fidelity_and_diversity_separate():
    """Fakes squeezed onto a tenth of the real spread: high precision, low recall and coverage."""
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(500, 4, generator=gen, dtype=torch.float64)
    narrow = 0.1 * torch.randn(500, 4, generator=gen, dtype=torch.float64)
    p, r = precision_recall(real, narrow)
    c = density_coverage(real, narrow)[1]
    assert p > 0.95 and r < 0.2 and c < 0.2


def test_knn_radii_chunks_agree_with_one_block(monkeypatch):
    import probgen.metrics.prdc as prdc

    x = torch.randn(50, 3, dtype=torch.float64)
    full = knn_radii(x, 3)
    monkeypatch.setattr(prdc, "_CHUNK", 7)
    torch.testing.assert_close(knn_radii(x, 3), full, rtol=0, atol=0)
    assert precision_recall(x, x + 0.1) == pytest.approx(precision_recall(x, x + 0.1))


def test_bad_inputs_give_clear_errors():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match="at least 6"):
        precision_recall(x, x, k=5)
    with pytest.raises(ValueError, match="`k` must be an int >= 1"):
        density_coverage(x, x, k=0)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        precision_recall(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        density_coverage(torch.randn(10), torch.randn(10, 4))
