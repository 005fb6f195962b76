"""The model layer: the network (a validated DAG of conditional tables), its state encoder, the Pyro
program, forward sampling and log-densities.

- ``network``: ``BayesNet``, the accessors every other layer reads, graph queries and ``intervene``.
- ``cpd``: ``TabularCPD``, one node's conditional table.
- ``gaussian_cpd``, ``softmax_cpd``, ``neural_cpd``: ``GaussianCPD`` (linear and conditional linear
  Gaussian), ``SoftmaxCPD`` (a discrete node with continuous parents), ``NeuralCPD`` (any torch module);
  ``variables``: what a node's values are (discrete or continuous, event shape).
- ``hybrid_network``: ``HybridBayesNet``, what ``BayesNet(g)`` builds when some node is not a table; its
  queries run on the engine in ``probgen.bayesnet.hybrid``.
- ``graph``: validation of the DAG, Markov blankets, layered rows for drawing.
- ``encoding``: ``StateEncoder``, the one place where state names, indices and data columns become
  state codes (the rules are in its docstring).
- ``program``: the network as a Pyro program.
- ``sampling``: ancestral sampling and the log joint of complete rows.
"""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "BayesNet": "probgen.bayesnet.model.network",
    "TabularCPD": "probgen.bayesnet.model.cpd",
    "GaussianCPD": "probgen.bayesnet.model.gaussian_cpd",
    "SoftmaxCPD": "probgen.bayesnet.model.softmax_cpd",
    "NeuralCPD": "probgen.bayesnet.model.neural_cpd",
    "HybridBayesNet": "probgen.bayesnet.model.hybrid_network",
    "StateEncoder": "probgen.bayesnet.model.encoding",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
