"""Approximate inference for networks too large for exact inference: likelihood weighting
(``likelihood_weighting``, returning a ``LikelihoodWeighting`` with marginals, ESS and log P(e))."""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "LikelihoodWeighting": "probgen.bayesnet.approx.weighting",
    "likelihood_weighting": "probgen.bayesnet.approx.weighting",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
