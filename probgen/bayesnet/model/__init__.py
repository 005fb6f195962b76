"""The model layer: the network (a validated DAG of conditional tables), its state encoder, the Pyro
program, forward sampling and log-densities.

- ``network``: ``BayesNet``, the accessors every other layer reads, graph queries and ``intervene``.
- ``cpd``: ``TabularCPD``, one node's conditional table.
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
    "StateEncoder": "probgen.bayesnet.model.encoding",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
