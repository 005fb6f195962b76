"""The sprinkler network: reasoning with evidence, explaining away, and seeing versus doing.

Rain -> Sprinkler, and both -> Wet grass. The script asks the classic questions with exact inference:
how likely is rain once the grass is wet (diagnosis), how much less likely once we also learn that the
sprinkler was on (explaining away: two causes of one effect compete), and what happens if we *switch the
sprinkler on* ourselves (the do-operator cuts Rain -> Sprinkler, so rain keeps its prior). It checks the
answers against likelihood weighting and against the Pyro program run through ``TraceEnum_ELBO``, tests
d-separation, finds the most probable explanation, and writes the network to ``sprinkler.bif``.
Figure: ``sprinkler.png`` (the DAG and P(Rain = yes) under each kind of evidence).

    python examples/bayesnet_sprinkler.py --num-samples 100000
"""

import argparse
import math
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import pyro
import torch
from pyro.infer import TraceEnum_ELBO, config_enumerate

from probgen.bayesnet import BayesNet, TabularCPD, read_bif, write_bif
from probgen.plot import save_figure

SMOKE_ARGS = ["--num-samples", "2000", "--out", "{out}"]


def sprinkler() -> BayesNet:
    g = nx.DiGraph([("Rain", "Sprinkler"), ("Rain", "Wet"), ("Sprinkler", "Wet")])
    g.nodes["Rain"]["cpd"] = TabularCPD(["no", "yes"], [0.8, 0.2])
    g.nodes["Sprinkler"]["cpd"] = TabularCPD(["off", "on"], [[0.6, 0.4],     # Rain = no
                                                              [0.99, 0.01]],  # Rain = yes
                                             parents=["Rain"])
    g.nodes["Wet"]["cpd"] = TabularCPD(["dry", "wet"], [[1.0, 0.0],    # no rain, sprinkler off
                                                        [0.1, 0.9],    # no rain, sprinkler on
                                                        [0.2, 0.8],    # rain, sprinkler off
                                                        [0.01, 0.99]],  # rain, sprinkler on
                                       parents=["Rain", "Sprinkler"])
    return BayesNet(g)


def p_rain(bn, evidence) -> float:
    return bn.posterior(evidence, ["Rain"])["Rain"][1].item()


def main(args):
    pyro.set_rng_seed(args.seed)
    bn = sprinkler()
    out = Path(args.out)
    questions = {
        "prior": ({}, bn),
        "Wet=wet": ({"Wet": "wet"}, bn),
        "Wet=wet, Sprinkler=on": ({"Wet": "wet", "Sprinkler": "on"}, bn),
        "Sprinkler=on": ({"Sprinkler": "on"}, bn),
        "do(Sprinkler=on)": ({}, bn.intervene({"Sprinkler": "on"})),
    }
    answers = {}
    for name, (evidence, net) in questions.items():
        answers[name] = p_rain(net, evidence)
        print(f"P(Rain=yes | {name:22s}) = {answers[name]:.4f}")
    print("explaining away: learning that the sprinkler was on lowers P(rain | wet grass) from "
          f"{answers['Wet=wet']:.3f} to {answers['Wet=wet, Sprinkler=on']:.3f}")

    lw = bn.approximate_posterior({"Wet": "wet"}, ["Rain"], num_samples=args.num_samples)
    print(f"likelihood weighting, {args.num_samples} samples (effective sample size {lw.ess.item():.0f}): "
          f"P(Rain=yes | wet) ~ {lw.marginals['Rain'][1].item():.4f}")

    # Pyro's own enumeration on the compiled program: -loss = log P(Wet = wet).
    loss = TraceEnum_ELBO(max_plate_nesting=1).loss(config_enumerate(bn.model), lambda data: None,
                                                    {"Wet": torch.tensor([1])})
    print(f"P(Wet=wet): engine {bn.probability({'Wet': 'wet'}).item():.6f}, "
          f"Pyro TraceEnum_ELBO {math.exp(-loss):.6f}")

    print(f"Rain and Sprinkler d-separated given nothing? {bn.is_d_separated('Rain', 'Sprinkler')}; "
          f"in do(Sprinkler=on)? {bn.intervene({'Sprinkler': 'on'}).is_d_separated('Rain', 'Sprinkler')}")
    print(f"most probable explanation of wet grass: {bn.map({'Wet': 'wet'})}")
    path = write_bif(bn, out / "sprinkler.bif")
    assert read_bif(path).equals(bn)
    print(f"wrote {path} (it reads back identical)")

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1, 1.6]})
    bn.draw(a, highlight=["Wet"], title="sprinkler")
    b.barh(list(answers), list(answers.values()), color="#457b9d")
    b.invert_yaxis()
    b.set(xlim=(0, 1), xlabel="P(Rain = yes | ...)", title="seeing vs doing")
    print(f"figure: {save_figure(fig, out / 'sprinkler.png')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=100_000, help="for likelihood weighting")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bayesnet_sprinkler")
    main(parser.parse_args())
