"""The Pyro way to learn tables: the network's Pyro program with learnable or random CPTs.

Two programs, both the compiled network (one ``pyro.sample`` per node under ``pyro.plate("rows", N)``,
tables indexed with ``Vindex`` as in ``model/program.py``):

- **Maximum likelihood by SVI** (``fit_svi``): each CPT is a ``pyro.param`` with a simplex constraint;
  missing cells (``obs_mask``) and latent nodes are enumerated in parallel by ``TraceEnum_ELBO`` with an
  empty guide, so the ELBO *is* the log-likelihood of the observed cells and Adam climbs it. It reaches
  EM's tables (a test checks it), more slowly; Pyro's enumeration gives every enumerated variable a
  tensor dimension, so it suits small networks.
- **Parameter uncertainty** (``table_posterior``): each CPT row is a ``pyro.sample`` site with a
  Dirichlet prior (BDeu, K2 or given pseudo-counts), the gaps again enumerated; the posterior over the
  tables comes from SVI with an auto-guide (``AutoNormal`` on the simplex's unconstrained coordinates,
  or ``AutoDelta`` for the MAP tables) or from NUTS on small networks.

Both run in float32 (Pyro's masked, enumerated sites mix float32 into the contraction).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO, TraceEnum_ELBO, config_enumerate
from pyro.infer.autoguide import AutoDelta, AutoNormal
from pyro.ops.indexing import Vindex

from probgen.bayesnet.learn.em import EMResult, network_with_tables
from probgen.bayesnet.learn.fit import initial_tables, prepare_data
from probgen.bayesnet.learn.parameters import check_prior, pseudo_counts_for
from probgen.bayesnet.model.network import BayesNet
from probgen.checks import check_choice, check_float, check_int
from probgen.progress import progress

__all__ = ["fit_svi", "table_posterior", "network_program"]

DTYPE = torch.float32


def network_program(bn: BayesNet, codes: dict[str, torch.Tensor], num_rows: int, table):
    """A Pyro model: the network over ``num_rows`` rows with ``table(node)`` as each node's CPT.

    ``codes``: node -> int64 ``(N,)`` state codes (-1: missing, enumerated through ``obs_mask``); a node
    without codes is latent. Returns the model (a function of no arguments).
    """
    def model():
        tables = {n: table(n) for n in bn.nodes}
        values: dict[str, torch.Tensor] = {}
        with pyro.plate("rows", num_rows, dim=-1):
            for n in bn.nodes:
                parents = bn.parents(n)
                probs = Vindex(tables[n])[tuple(values[p] for p in parents) + (slice(None),)] \
                    if parents else tables[n]
                x = codes.get(n)
                if x is None:
                    values[n] = pyro.sample(n, dist.Categorical(probs))
                elif bool((x >= 0).all()):
                    values[n] = pyro.sample(n, dist.Categorical(probs), obs=x)
                else:
                    values[n] = pyro.sample(n, dist.Categorical(probs), obs=x.clamp(min=0), obs_mask=x >= 0)
        return values

    return config_enumerate(model, "parallel")


def _elbo(bn: BayesNet, codes: dict):
    """``TraceEnum_ELBO`` when some cell or node is enumerated, else ``Trace_ELBO`` (nothing to sum)."""
    hidden = any(n not in codes or not bool((codes[n] >= 0).all()) for n in bn.nodes)
    return TraceEnum_ELBO(max_plate_nesting=1) if hidden else Trace_ELBO()


def _codes(bn: BayesNet, data, latent, ignore_extra: bool):
    table, _, latent = prepare_data(bn, data, set(latent or ()), ignore_extra)
    return table, {n: table.columns[n] for n in bn.nodes if n not in latent}, latent


def fit_svi(bn: BayesNet, data, *, num_steps: int = 1000, lr: float = 0.05, latent=None,
            ignore_extra: bool = False, generator: torch.Generator | None = None) -> BayesNet:
    """Maximum-likelihood tables by SVI on the Pyro program with ``pyro.param`` CPTs.

    Args:
        bn: the network (graph and states; its tables are not used).
        data: as ``BayesNet.fit`` (missing cells allowed).
        num_steps, lr: Adam steps and learning rate.
        latent: nodes without a column (random initial tables, as EM's).
        generator: the random source of the latent nodes' initial tables.

    Returns:
        A new BayesNet; ``fit_info.log_likelihood`` holds the log-likelihood (minus the loss) per step.
    """
    num_steps, lr = check_int("num_steps", num_steps, 1), check_float("lr", lr, 0, low_open=True)
    table, codes, latent = _codes(bn, data, latent, ignore_extra)
    zeros = [torch.zeros_like(bn.cpt(n)) for n in bn.nodes]
    start = dict(zip(bn.nodes, initial_tables(bn, table, zeros, latent, None, generator)))
    names = {n: f"cpt_{n}" for n in bn.nodes}
    store = pyro.get_param_store()
    for n in bn.nodes:  # a fresh start: drop the tables of an earlier fit
        if names[n] in store:
            del store[names[n]]

    def param(n):
        return pyro.param(names[n], start[n].to(DTYPE), constraint=constraints.simplex)

    model = network_program(bn, codes, table.num_rows, param)
    svi = SVI(model, lambda: None, pyro.optim.Adam({"lr": lr}), _elbo(bn, codes))
    trace = [-svi.step() for _ in progress(range(num_steps), desc="SVI")]
    tables = [pyro.param(names[n]).detach().double() for n in bn.nodes]
    fitted = network_with_tables(bn, [t / t.sum(-1, keepdim=True) for t in tables])
    fitted.fit_info = EMResult("svi", log_likelihood=trace, converged=False, iterations=num_steps,
                               latent=sorted(latent))
    return fitted


def table_posterior(bn: BayesNet, data, *, method: str = "svi", prior: str = "k2",
                    equivalent_sample_size: float = 10.0, pseudo_counts=None, num_samples: int = 500,
                    num_steps: int = 1000, lr: float = 0.05, guide: str = "normal", warmup_steps: int = 200,
                    latent=None, ignore_extra: bool = False) -> dict[str, torch.Tensor]:
    """Draws from the posterior over the tables, with a Dirichlet prior on every CPT row.

    Args:
        method: "svi" (an auto-guide fitted by SVI, then sampled) or "nuts" (MCMC; small networks).
        prior: "k2" (default), "bdeu" (with ``equivalent_sample_size``) or "dirichlet" (with
            ``pseudo_counts``): the Dirichlet parameters of each row. Every parameter must be positive.
        num_samples: posterior draws returned.
        num_steps, lr, guide: SVI's Adam steps, learning rate and auto-guide, "normal" (``AutoNormal``)
            or "delta" (``AutoDelta``: the MAP tables, every draw the same).
        warmup_steps: NUTS's adaptation steps.

    Returns:
        dict node -> float64 tensor ``(num_samples, *parent_cards, card)`` of sampled CPTs.
    """
    check_choice("method", method, ("svi", "nuts"))
    check_choice("guide", guide, ("normal", "delta"))
    prior, ess = check_prior(prior, equivalent_sample_size, pseudo_counts)
    num_samples = check_int("num_samples", num_samples, 1)
    alphas = {n: pseudo_counts_for(prior, n, bn.cpt(n).shape, ess, pseudo_counts).to(DTYPE) for n in bn.nodes}
    bad = [n for n, a in alphas.items() if not bool((a > 0).all())]
    if bad:
        raise ValueError(f"a Dirichlet prior needs positive pseudo-counts; prior={prior!r} gives zeros in "
                         f"the tables of {bad}")
    table, codes, _ = _codes(bn, data, latent, ignore_extra)

    def draw(n):
        a = alphas[n]
        return pyro.sample(f"cpt_{n}", dist.Dirichlet(a).to_event(a.dim() - 1))

    model = network_program(bn, codes, table.num_rows, draw)
    sites = [f"cpt_{n}" for n in bn.nodes]
    if method == "nuts":
        mcmc = MCMC(NUTS(model, max_plate_nesting=1), num_samples=num_samples,
                    warmup_steps=check_int("warmup_steps", warmup_steps, 1), disable_progbar=True)
        mcmc.run()
        samples = mcmc.get_samples()
    else:
        samples = _svi_posterior(model, sites, guide, check_int("num_steps", num_steps, 1),
                                 check_float("lr", lr, 0, low_open=True), num_samples, _elbo(bn, codes))
    return {n: samples[f"cpt_{n}"].detach().double().reshape(-1, *bn.cpt(n).shape) for n in bn.nodes}


def _svi_posterior(model, sites, guide: str, num_steps: int, lr: float, num_samples: int, elbo) -> dict:
    blocked = pyro.poutine.block(model, expose=sites)  # the auto-guide covers the tables only
    auto = AutoNormal(blocked) if guide == "normal" else AutoDelta(blocked)
    svi = SVI(model, auto, pyro.optim.Adam({"lr": lr}), elbo)
    for _ in progress(range(num_steps), desc="SVI"):
        svi.step()
    with torch.no_grad():
        return Predictive(blocked, guide=auto, num_samples=num_samples, return_sites=sites)()
