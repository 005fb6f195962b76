"""Continuous and hybrid Bayesian networks: Gaussian, conditional linear Gaussian, softmax and neural
conditionals, their Pyro program, exact and approximate inference, least-squares learning and pgmpy's
Gaussian JSON files.
"""

from probgen.bayesnet.hybrid.gaussian_cpd import GaussianCPD
from probgen.bayesnet.hybrid.network import HybridNetwork, check_hybrid_graph
from probgen.bayesnet.hybrid.neural_cpd import NeuralCPD
from probgen.bayesnet.hybrid.softmax_cpd import SoftmaxCPD

__all__ = ["GaussianCPD", "HybridNetwork", "NeuralCPD", "SoftmaxCPD", "check_hybrid_graph"]
