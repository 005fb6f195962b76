"""NUTS on a hybrid network's Pyro program, for small problems that exact inference cannot answer.

The program (``probgen.bayesnet.hybrid.program.hybrid_model``) is conditioned on the evidence and run
by Pyro's NUTS (Hoffman and Gelman, JMLR 15, 2014). Unobserved discrete nodes are summed out by Pyro's
parallel enumeration inside the potential, so NUTS moves only the continuous nodes; their posterior draws
are returned. Discrete posteriors come from ``clg_posterior`` or ``likelihood_weighting``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pyro import poutine
from pyro.infer import MCMC, NUTS, config_enumerate
from pyro.infer.autoguide.initialization import init_to_value

from probgen.bayesnet.hybrid.evidence import encode_values, parse_targets
from probgen.bayesnet.hybrid.program import hybrid_model
from probgen.checks import check_int

__all__ = ["NUTSPosterior", "nuts_posterior"]


@dataclass
class NUTSPosterior:
    """Posterior draws of the continuous query nodes.

    Attributes:
        samples: node -> ``(num_samples, N, *event_shape)`` draws (``(num_samples, ...)`` unbatched).
        diagnostics: Pyro's per-site diagnostics (``n_eff``, ``r_hat``) and divergences.
        method: ``"NUTS"``.
    """

    samples: dict[str, torch.Tensor]
    diagnostics: dict
    method: str = "NUTS"

    def mean(self, node: str) -> torch.Tensor:
        return self.samples[node].mean(0)

    def variance(self, node: str) -> torch.Tensor:
        return self.samples[node].var(0)


def nuts_posterior(net, evidence=None, targets=None, *, num_samples: int = 500, warmup_steps: int = 300,
                   num_chains: int = 1, **nuts_kwargs) -> NUTSPosterior:
    """Draw the continuous query nodes' posterior with NUTS.

    Args:
        net: a ``HybridNetwork``.
        evidence: dict node -> value, or one value per row ``(N,)`` (same observed set in every row).
        targets: continuous nodes to return (default every unobserved continuous node).
        num_samples, warmup_steps, num_chains: as ``pyro.infer.MCMC``.
        **nuts_kwargs: passed to ``pyro.infer.NUTS`` (e.g. ``target_accept_prob``).
    """
    num_samples = check_int("num_samples", num_samples, 1)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    obs = encode_values(net, evidence, "evidence")
    if targets is None:
        targets = [n for n in net.nodes if n not in obs.values and not net.is_discrete(n)]
    targets = parse_targets(net, targets, obs.nodes)
    odd = [t for t in targets if net.is_discrete(t)]
    if odd:
        raise ValueError(f"NUTS moves continuous nodes only; {odd} are discrete (summed out by enumeration); "
                         "ask clg_posterior or likelihood_weighting for them")
    if not targets:
        raise ValueError("NUTS has nothing to sample: every continuous node is observed")
    data = dict(obs.values)

    def model():
        return hybrid_model(net, data, obs.num_rows)

    # Initial values from one run of the program without enumeration: a continuous node below an
    # enumerated discrete one would otherwise be initialised with the enumeration axis in its shape.
    trace = poutine.trace(model).get_trace()
    init = {n: trace.nodes[n]["value"].detach() for n in net.nodes
            if n not in data and not net.is_discrete(n)}
    nuts_kwargs.setdefault("init_strategy", init_to_value(values=init))
    kernel = NUTS(config_enumerate(model, default="parallel"), max_plate_nesting=1, **nuts_kwargs)
    mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=warmup_steps, num_chains=num_chains,
                disable_progbar=True)
    mcmc.run()
    draws = mcmc.get_samples()
    samples = {t: draws[t] if obs.batched else draws[t][:, 0] for t in targets}
    return NUTSPosterior(samples, mcmc.diagnostics())
