"""Learning from complete data.

- ``data``: ``DataTable``, the data encoded once into state codes (columns through the state encoder).
- ``parameters``: ``fit_parameters``, maximum likelihood or Dirichlet (BDeu, K2) tables for a structure.
- ``scores``: decomposable scores (log-likelihood, BIC, BDeu): ``local_score`` and ``score``.
- ``structure``: ``hill_climb`` over DAGs and ``learn_network`` (structure, then parameters).
"""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "DataTable": "probgen.bayesnet.learn.data",
    "fit_parameters": "probgen.bayesnet.learn.parameters",
    "local_score": "probgen.bayesnet.learn.scores",
    "score": "probgen.bayesnet.learn.scores",
    "hill_climb": "probgen.bayesnet.learn.structure",
    "learn_network": "probgen.bayesnet.learn.structure",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
