"""The E-step of EM: expected family counts of rows with missing cells, by the exact engine.

For each row b with evidence e_b (its observed cells), EM needs the posterior of every family
``P(x, u | e_b)``, summed over rows: the expected counts ``E[N(u, x)]``. They come from one batched
contraction of the exact engine (``probgen.bayesnet.exact``) and one backward pass through it: with
``Z_b = P(e_b)`` a multilinear function of the CPT entries,
``theta[u, x] * d(sum_b w_b log Z_b) / d theta[u, x] = sum_b w_b P(x, u | e_b)``
(Darwiche 2003; the same identity that gives the engine its marginals). Rows are deduplicated (``w_b``
counts repeats), and grouped by their missing pattern: a pattern shared by many rows gets a plan of its
own in which every observed node is sliced away, the other rows share one plan in which a node observed
in some of them carries an evidence indicator. Plans are made once; every iteration reruns them on new
tables. Nothing is pruned: an unobserved node with no observed descendant still receives its expected
counts ``P(u | e_b) theta[u, x]``.

References: A. P. Dempster, N. M. Laird, D. B. Rubin, "Maximum likelihood from incomplete data via the EM
algorithm", JRSS B 39 (1977); S. L. Lauritzen, "The EM algorithm for graphical association models with
missing data", Computational Statistics & Data Analysis 19 (1995); A. Darwiche, "A differential approach
to inference in Bayesian networks", JACM 50 (2003).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from probgen.bayesnet.exact.compiled import compiled
from probgen.bayesnet.exact.contract import contract_sum, make_lambdas
from probgen.bayesnet.exact.kernels import serial_below
from probgen.bayesnet.exact.plan import Plan, build_plan

__all__ = ["EStep", "distinct_rows"]

MIN_GROUP = 64  # rows a missing pattern needs to get a plan of its own
MAX_BLOCK = 20_000  # rows per contraction (memory: the autograd graph keeps every table of a block)


@dataclass
class _Block:
    plan: Plan
    codes: torch.Tensor  # (B, k) int64 codes of the plan's evidence columns, -1 where missing
    weights: torch.Tensor  # (B,) float64: how many data rows each row stands for
    cols: list[int]  # the engine id of each evidence column


def distinct_rows(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(distinct rows (M, K), counts (M,) float64)`` of an int64 matrix of codes (entries >= -1)."""
    if len(codes) == 0:
        return codes, torch.zeros(0, dtype=torch.float64)
    radix = (codes.amax(0) + 2).tolist()
    if math.prod(radix) < 2**62:  # one exact int64 key per row: far faster than unique(dim=0)
        weights = torch.tensor([math.prod(radix[j + 1:]) for j in range(len(radix))], dtype=torch.int64)
        _, first, counts = _unique_keys((codes + 1) @ weights)
        return codes[first], counts.to(torch.float64)
    rows, counts = torch.unique(codes, dim=0, return_counts=True)
    return rows, counts.to(torch.float64)


def _unique_keys(keys: torch.Tensor):
    """``(inverse, index of each group's first row, group sizes)`` of an int64 key per row."""
    uniq, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
    first = torch.full((len(uniq),), len(keys), dtype=torch.int64)
    first = first.scatter_reduce(0, inverse, torch.arange(len(keys)), "amin")
    return inverse, first, counts


class EStep:
    """Expected counts of every family over a fixed set of rows with missing cells.

    Args:
        bn: the network (its structure, states and node order; its tables are not used).
        codes: int64 ``(M, D)`` state codes, one column per node in ``bn.nodes`` order, -1 where missing.
        weights: float64 ``(M,)``, how many data rows each row stands for.
    """

    def __init__(self, bn, codes: torch.Tensor, weights: torch.Tensor) -> None:
        self.net = compiled(bn)
        self.order = [bn.nodes.index(n) for n in self.net.names]  # engine id -> column of codes
        codes = codes[:, self.order]  # (M, D): columns in engine id order
        self.blocks: list[_Block] = []
        observed = codes >= 0  # (M, D)
        pattern_key = observed.to(torch.int64) @ _bit_weights(observed.shape[1])
        inverse, _, sizes = _unique_keys(pattern_key) if len(codes) else (None, None, torch.zeros(0))
        own = sizes >= MIN_GROUP
        for g in own.nonzero().flatten().tolist():
            rows = inverse == g
            self._add(codes[rows], weights[rows])
        rest = ~own[inverse] if len(codes) else None
        if rest is not None and bool(rest.any()):
            self._add(codes[rest], weights[rest])

    def __repr__(self) -> str:
        return f"EStep({sum(len(b.weights) for b in self.blocks)} distinct rows, {len(self.blocks)} blocks)"

    def _add(self, codes: torch.Tensor, weights: torch.Tensor) -> None:
        seen = (codes >= 0).any(0)
        cols = seen.nonzero().flatten().tolist()  # nodes observed in some row: evidence columns
        full = [c for c, v in enumerate(cols) if bool((codes[:, v] >= 0).all())]
        targets = list(range(len(self.net.names)))  # no pruning: every family gets its counts
        for lo in range(0, len(codes), MAX_BLOCK):
            block = codes[lo:lo + MAX_BLOCK][:, cols]
            bucket = 4 ** min(10, math.ceil(math.log(max(len(block), 1), 4)))
            plan = self.net.plan(("em", tuple(cols), tuple(full), bucket),
                                 lambda b=bucket: build_plan(self.net, cols, full, targets, "sum", True, b,
                                                             "float64"))
            self.blocks.append(_Block(plan, block, weights[lo:lo + MAX_BLOCK], cols))

    def _zero(self, b: _Block, bad: torch.Tensor) -> ValueError:
        row = b.codes[bad][0].tolist()
        cells = {self.net.names[v]: self.net.states[v][x] for v, x in zip(b.cols, row) if x >= 0}
        return ValueError(f"{int(bad.sum())} distinct row(s) with missing cells have probability zero under "
                          f"the current tables, e.g. {cells}; start EM from tables without zeros (the "
                          "default initialisation) or check the data")

    def __call__(self, tables: list[torch.Tensor]) -> tuple[float, list[torch.Tensor]]:
        """Log-likelihood of the rows and expected counts, given ``tables`` (the CPTs in ``bn.nodes``
        order, float64 ``(*parent_cards, card)``): ``(sum_b w_b log P(e_b), [E[N] per node])``."""
        theta = [tables[i].detach().requires_grad_(True) for i in self.order]  # engine id order
        expected = [torch.zeros_like(t) for t in theta]
        total = 0.0
        work = 3 * self.net.total * max((len(b.weights) for b in self.blocks), default=1)
        with serial_below(work), torch.enable_grad():
            for b in self.blocks:
                lams = make_lambdas(b.plan, b.codes, len(b.weights), torch.device("cpu"), torch.float64,
                                    log=False)
                log_z, _ = contract_sum(b.plan, theta, b.codes, len(b.weights), lams, marginals=False)
                if not bool(torch.isfinite(log_z).all()):
                    raise self._zero(b, ~torch.isfinite(log_z))
                ll = (b.weights * log_z).sum()
                grads = torch.autograd.grad(ll, theta, allow_unused=True)
                for e, g, t in zip(expected, grads, theta):
                    if g is not None:
                        e += g * t.detach()
                total += float(ll.detach())
        by_node = [None] * len(theta)
        for engine_id, i in enumerate(self.order):
            by_node[i] = expected[engine_id]
        return total, by_node


def _bit_weights(k: int) -> torch.Tensor:
    """Weights that give each observed-mask row a distinct int64 key (a hash beyond 62 columns)."""
    if k <= 62:
        return 2 ** torch.arange(k, dtype=torch.int64)
    gen = torch.Generator().manual_seed(k)
    return torch.randint(-(2**62), 2**62, (k,), generator=gen) * 2 + 1
