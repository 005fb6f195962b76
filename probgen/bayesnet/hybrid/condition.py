"""Conditioning a joint Gaussian on observed coordinates, for many evidence rows at once.

Two exact routes, both float64 and both batched over leading configuration axes (CLG) and rows:

- ``"information"``: with the precision ``Lambda`` (no dense inverse), the hidden part given ``x_E`` is
  ``N(mu_H - Lambda_HH^-1 Lambda_HE (x_E - mu_E), Lambda_HH^-1)``: one Cholesky factor of ``Lambda_HH``.
  The evidence density needs ``Sigma_EE^-1 = Lambda_EE - Lambda_EH Lambda_HH^-1 Lambda_HE`` (a Schur
  complement) and ``log det Sigma_EE = sum log D + 2 log det chol(Lambda_HH)`` (``det(I - B) = 1``).
- ``"moment"``: with the covariance, ``m_H = mu_H + Sigma_HE Sigma_EE^-1 (x_E - mu_E)``,
  ``Sigma_HH - Sigma_HE Sigma_EE^-1 Sigma_EH``, and ``log N(x_E; mu_E, Sigma_EE)``: one Cholesky factor of
  ``Sigma_EE``.

The covariance depends only on which coordinates are observed, so every row of one observed set shares
it; rows differ in their means and evidence densities only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from probgen.bayesnet.hybrid.linear import LOG_2PI, LinearGaussian
from probgen.checks import check_choice

FORMS = ("information", "moment")


@dataclass
class Conditioned:
    """A joint Gaussian conditioned on ``x_E`` for N rows.

    Attributes:
        hidden: positions (in the joint) of the unobserved coordinates.
        mean: ``(*config, N, h)`` posterior means.
        covariance: ``(*config, h, h)`` posterior covariance (shared by the rows).
        log_evidence: ``(*config, N)``, ``log p(x_E)``.
    """

    hidden: list[int]
    mean: torch.Tensor
    covariance: torch.Tensor
    log_evidence: torch.Tensor


def condition(lg: LinearGaussian, observed: list[int], x_obs: torch.Tensor,
              form: str = "information") -> Conditioned:
    """Condition the joint ``lg`` on coordinates ``observed`` taking values ``x_obs`` ``(N, e)``.

    Args:
        lg: the joint (leading configuration axes allowed).
        observed: positions of the observed coordinates (distinct).
        x_obs: ``(N, e)`` float64 values, columns in the order of ``observed``.
        form: ``"information"`` (precision, the default) or ``"moment"`` (covariance).
    """
    check_choice("form", form, FORMS)
    obs_set = set(observed)
    hidden = [i for i in range(lg.n) if i not in obs_set]
    x_obs = x_obs.to(torch.float64)
    if not observed:  # the prior, for every row
        mu, cov = lg.mean(), lg.covariance()
        n_rows = x_obs.shape[-2]
        mean = mu.unsqueeze(-2).expand(*mu.shape[:-1], n_rows, lg.n)
        return Conditioned(hidden, mean, cov, torch.zeros(mean.shape[:-1], dtype=torch.float64))
    fn = _information if form == "information" else _moment
    return fn(lg, observed, hidden, x_obs)


def _information(lg, observed, hidden, x_obs) -> Conditioned:
    lam = lg.precision()  # (*config, n, n)
    mu = lg.mean()  # (*config, n)
    o, h = torch.as_tensor(observed), torch.as_tensor(hidden, dtype=torch.long)
    diff = x_obs - mu[..., None, o]  # (*config, N, e)
    log_det_d = lg.variance.log().sum(-1)  # log det Sigma = sum log D: det(I - B) = 1
    if not hidden:
        quad = ((diff @ lam[..., o[:, None], o]) * diff).sum(-1)
        log_ev = -0.5 * (quad + log_det_d.unsqueeze(-1) + len(observed) * LOG_2PI)
        return Conditioned(hidden, diff[..., :0], lam[..., :0, :0], log_ev)
    lam_hh = lam[..., h[:, None], h]  # (*config, h, h)
    lam_he = lam[..., h[:, None], o]  # (*config, h, e)
    chol = _cholesky(lam_hh, "the hidden nodes' precision")
    gain = torch.cholesky_solve(lam_he, chol)  # (*config, h, e) = Lambda_HH^-1 Lambda_HE
    m_h = mu[..., None, h] - diff @ gain.transpose(-1, -2)  # (*config, N, h)
    cov = torch.cholesky_inverse(chol)
    cov = (cov + cov.transpose(-1, -2)) / 2
    # Sigma_EE^-1 = Lambda_EE - Lambda_EH Lambda_HH^-1 Lambda_HE (Schur complement), and
    # log det Sigma_EE = log det Sigma - log det Sigma_H|E = sum log D + 2 log det chol(Lambda_HH).
    prec_e = lam[..., o[:, None], o] - lam_he.transpose(-1, -2) @ gain  # (*config, e, e)
    quad = ((diff @ prec_e) * diff).sum(-1)  # (*config, N)
    log_det_e = log_det_d + 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    log_ev = -0.5 * (quad + log_det_e.unsqueeze(-1) + len(observed) * LOG_2PI)
    return Conditioned(hidden, m_h, cov, log_ev)


def _moment(lg, observed, hidden, x_obs) -> Conditioned:
    sigma = lg.covariance()
    mu = lg.mean()
    o, h = torch.as_tensor(observed), torch.as_tensor(hidden, dtype=torch.long)
    diff = x_obs - mu[..., None, o]  # (*config, N, e)
    chol_e = _cholesky(sigma[..., o[:, None], o], "the observed nodes' covariance")
    z = torch.linalg.solve_triangular(chol_e, diff.transpose(-1, -2), upper=False)  # (*config, e, N)
    log_det = chol_e.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    log_ev = -0.5 * (z**2).sum(-2) - log_det.unsqueeze(-1) - 0.5 * len(observed) * LOG_2PI
    s_eh = sigma[..., o[:, None], h]  # (*config, e, h)
    gain = torch.cholesky_solve(s_eh, chol_e)  # (*config, e, h) = Sigma_EE^-1 Sigma_EH
    m_h = mu[..., None, h] + diff @ gain
    cov = sigma[..., h[:, None], h] - s_eh.transpose(-1, -2) @ gain
    cov = (cov + cov.transpose(-1, -2)) / 2
    return Conditioned(hidden, m_h, cov, log_ev)


def _cholesky(a: torch.Tensor, what: str) -> torch.Tensor:
    chol, info = torch.linalg.cholesky_ex(a)
    if (info != 0).any():
        raise ValueError(f"{what} is not positive definite (Cholesky failed at order {int(info.max())}); "
                         "a variance may be tiny next to the others")
    return chol
