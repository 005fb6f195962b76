"""The network as a Pyro program: one ``pyro.sample`` per node, in topological order, under a plate of rows.

Each node's distribution is ``Categorical(cpt[parent values..., :])``, indexed with
:class:`pyro.ops.indexing.Vindex` so that the parents' values may carry extra (enumeration) dimensions on
the left: ``config_enumerate`` + ``TraceEnum_ELBO`` or ``infer_discrete`` run on the program unchanged,
and ``pyro.infer.inspect.get_dependencies`` recovers exactly the DAG's parents. The program is the model
of record; the exact engine (``probgen.bayesnet.exact``) agrees with Pyro's enumeration on it.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.ops.indexing import Vindex

from probgen.checks import check_int


def _num_rows(data: dict, num_rows) -> int:
    if data:
        n = len(next(iter(data.values())))
        if num_rows is not None and int(num_rows) != n:
            raise ValueError(f"`num_rows` ({num_rows}) disagrees with the data's {n} rows")
        return n
    if num_rows is None:
        return 1
    return check_int("num_rows", num_rows, 1)


def run_model(bn, data=None, num_rows: int | None = None) -> dict[str, torch.Tensor]:
    """Run the network's Pyro program (see :meth:`BayesNet.model`); returns dict node -> value.

    Args:
        data: dict node -> int64 tensor (N,) of observed state codes (names and indices are accepted too,
            by the state encoder's rules: ``BayesNet.encode_rows``); the other nodes are sampled (or
            enumerated).
        num_rows: N when there is no data (default 1).
    """
    data = bn.encode_rows(data) if data else {}
    n = _num_rows(data, num_rows)
    values: dict[str, torch.Tensor] = {}
    with pyro.plate("rows", n, dim=-1):
        for node in bn.nodes:
            cpt = bn.cpt(node)  # (*parent_cards, card)
            parents = bn.parents(node)
            probs = Vindex(cpt)[tuple(values[p] for p in parents) + (slice(None),)] if parents else cpt
            values[node] = pyro.sample(node, dist.Categorical(probs=probs), obs=data.get(node))
    return values
