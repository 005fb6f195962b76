"""Small example networks used by the tests, the benchmark and the docs."""

from __future__ import annotations

from probgen.bayesnet import TabularCPD
from probgen.bayesnet.hybrid.network import HybridNetwork
from probgen.bayesnet.model.gaussian_cpd import GaussianCPD

__all__ = ["clg_example"]


def clg_example() -> HybridNetwork:
    """A five-node CLG network with 6 discrete configurations:
    ``d -> e`` (tables), ``d -> x``, ``(x, e) -> y``, ``y -> z`` (Gaussians; x and y CLG)."""
    return HybridNetwork({
        "d": TabularCPD(["a", "b"], [0.3, 0.7]),
        "e": TabularCPD(["u", "v", "w"], [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], parents=["d"]),
        "x": GaussianCPD(["d"], bias=[0.0, 2.0], variance=[1.0, 0.5]),
        "y": GaussianCPD(["x", "e"], weights=[[1.0], [-1.0], [0.5]], bias=[0.5, 0.0, 1.0],
                         variance=[0.3, 0.2, 1.0]),
        "z": GaussianCPD(["y"], weights=[2.0], bias=0.1, variance=0.4),
    }, name="clg example")
