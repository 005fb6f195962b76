"""Continuous and hybrid Bayesian networks: Gaussian, conditional linear Gaussian (CLG), softmax and neural
conditionals; their Pyro program; exact inference for Gaussian and CLG networks, likelihood weighting and
NUTS for the rest; least-squares learning; pgmpy's Gaussian JSON files and the four bnlearn Gaussian networks.

Examples:
    >>> from probgen.bayesnet import TabularCPD
    >>> from probgen.bayesnet.hybrid import GaussianCPD, HybridNetwork, clg_posterior
    >>> net = HybridNetwork({
    ...     "sick": TabularCPD(["no", "yes"], [0.9, 0.1]),
    ...     "bp": GaussianCPD(["sick"], bias=[120.0, 150.0], variance=[100.0, 225.0]),
    ... })
    >>> post = clg_posterior(net, {"bp": 145.0})
    >>> [round(p, 3) for p in post.probs("sick").tolist()]
    [0.385, 0.615]

``BayesNet`` uses this engine for any network with a continuous, softmax or neural node
(``bn.posterior``, ``bn.sample``, ``bn.fit``; ``bn.engine`` is its ``HybridNetwork``); the functions here
take a ``HybridNetwork``. The conditionals themselves live in the model layer
(``probgen.bayesnet.model``) and the JSON files in the io layer (``probgen.bayesnet.io.gaussian_json``).
"""

from probgen.bayesnet.hybrid.clg import MAX_CONFIGURATIONS, CLGPosterior, clg_posterior
from probgen.bayesnet.hybrid.condition import condition
from probgen.bayesnet.hybrid.evidence import encode_values
from probgen.bayesnet.hybrid.fit import fit_clg, fit_gaussian_cpd, fit_tabular_cpd
from probgen.bayesnet.hybrid.gaussian import GaussianPosterior, gaussian_posterior, joint_gaussian
from probgen.bayesnet.hybrid.jsonio import (
    json_dict,
    list_gaussian_networks,
    load_gaussian_network,
    read_json,
    write_json,
)
from probgen.bayesnet.hybrid.linear import LinearGaussian, linear_gaussian
from probgen.bayesnet.hybrid.lw import LWPosterior, likelihood_weighting
from probgen.bayesnet.hybrid.network import HybridNetwork, check_hybrid_graph
from probgen.bayesnet.hybrid.nuts import NUTSPosterior, nuts_posterior
from probgen.bayesnet.hybrid.program import forward_sample, hybrid_model, log_joint, node_distribution
from probgen.bayesnet.model.gaussian_cpd import GaussianCPD
from probgen.bayesnet.model.neural_cpd import NeuralCPD
from probgen.bayesnet.model.softmax_cpd import SoftmaxCPD

__all__ = [
    "MAX_CONFIGURATIONS",
    "CLGPosterior",
    "GaussianCPD",
    "GaussianPosterior",
    "HybridNetwork",
    "LWPosterior",
    "LinearGaussian",
    "NUTSPosterior",
    "NeuralCPD",
    "SoftmaxCPD",
    "check_hybrid_graph",
    "clg_posterior",
    "condition",
    "encode_values",
    "fit_clg",
    "fit_gaussian_cpd",
    "fit_tabular_cpd",
    "forward_sample",
    "gaussian_posterior",
    "hybrid_model",
    "joint_gaussian",
    "json_dict",
    "likelihood_weighting",
    "linear_gaussian",
    "list_gaussian_networks",
    "load_gaussian_network",
    "log_joint",
    "node_distribution",
    "nuts_posterior",
    "read_json",
    "write_json",
]
