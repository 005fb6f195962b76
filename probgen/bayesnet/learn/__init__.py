"""Learning from data: tables for a given graph (``BayesNet.fit``), and the graph itself.

- ``data``: ``DataTable``, the data encoded once into state codes (columns through the state encoder),
  from a DataFrame, a dict of columns or a CSV file; missing cells coded -1.
- ``parameters``: ``fit_parameters``, maximum likelihood or Dirichlet (BDeu, K2) tables from complete rows.
- ``fit``: ``BayesNet.fit`` (mle, bayes, em), with a per-CPD-kind estimator registry.
- ``em``, ``estep``: expectation-maximisation over missing cells and latent nodes, its E-step by the exact
  engine.
- ``pyro_fit``: the Pyro way: CPTs as ``pyro.param`` trained by SVI with the gaps enumerated, and
  Dirichlet priors on CPT rows (posterior by SVI or NUTS).
- ``scores``: decomposable scores (log-likelihood, BIC, BDeu, K2): ``local_score`` and ``score``.
- ``hillclimb``, ``pcalg``, ``cpdag``, ``constraints``: hill climbing and tabu search, PC-stable, CPDAGs and
  the structural Hamming distance, required/forbidden edges.
- ``structure``: ``learn_structure`` (one entry point) and ``learn_network`` (structure, then tables).
"""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "DataTable": "probgen.bayesnet.learn.data",
    "fit_parameters": "probgen.bayesnet.learn.parameters",
    "register_estimator": "probgen.bayesnet.learn.fit",
    "EMResult": "probgen.bayesnet.learn.em",
    "local_score": "probgen.bayesnet.learn.scores",
    "score": "probgen.bayesnet.learn.scores",
    "hill_climb": "probgen.bayesnet.learn.hillclimb",
    "pc": "probgen.bayesnet.learn.pcalg",
    "ci_test": "probgen.bayesnet.learn.pcalg",
    "shd": "probgen.bayesnet.learn.cpdag",
    "cpdag_to_dag": "probgen.bayesnet.learn.cpdag",
    "dag_to_cpdag": "probgen.bayesnet.learn.cpdag",
    "learn_structure": "probgen.bayesnet.learn.structure",
    "learn_network": "probgen.bayesnet.learn.structure",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
