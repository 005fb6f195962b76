"""Exact inference: posterior marginals, P(e) and the most probable explanation by variable elimination.

A query runs down these modules:

- ``queries``: the public functions (``posterior``, ``probability``, ``log_probability``,
  ``map_assignment``); ``BayesNet.posterior`` and friends delegate here.
- ``evidence``: the user's ``evidence`` mapping checked and encoded into ``Observations`` (node ids and a
  matrix of state codes), and the query's targets.
- ``compiled``: the network flattened once (integer ids, float64 tables, elimination order, plan cache).
- ``elimination``: greedy elimination orders of the moral graph.
- ``plan``: a contraction plan per query pattern (slicing, pruning, bucket elimination).
- ``contract``: running a plan, sum-product with its backward pass and max-product.
- ``kernels``: one contraction step (einsum or a broadcast product).

Each query runs under ``probgen.threads.torch_threads`` (kind ``"contract"``): one thread unless the batch
is large and cores are spare.
"""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "posterior": "probgen.bayesnet.exact.queries",
    "probability": "probgen.bayesnet.exact.queries",
    "log_probability": "probgen.bayesnet.exact.queries",
    "map_assignment": "probgen.bayesnet.exact.queries",
    "InferenceTooLargeError": "probgen.bayesnet.exact.queries",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
