"""docs/bayesnet_hybrid.md: its Python blocks run as written (the SVI block with 2 steps), and the values its
comments state are the ones computed."""

import re
from pathlib import Path

import pytest
import torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "bayesnet_hybrid.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_user_guide_blocks_run_and_say_true_things():
    blocks = _blocks()
    ns = {"__name__": "doc"}
    exec(compile(blocks[0], str(DOC), "exec"), ns)
    assert repr(ns["bn"]) == "BayesNet(3 nodes (1 discrete, 2 continuous), 2 edges, clg)"
    assert torch.allclose(ns["post"]["sick"], torch.tensor([0.2722, 0.7278], dtype=torch.float64), atol=5e-5)
    assert float(ns["post"]["age"].mean) == pytest.approx(53.27, abs=0.005)
    assert ns["post"].method == "exact" and ns["post"].reason.startswith("tables and Gaussians only")
    assert float(ns["bn"].probability({"bp": 150.0})) == pytest.approx(0.0032, abs=5e-5)
    assert ns["full"].explain_query({"alarm": "on"}).startswith("lw (lw): no exact method: nodes ['alarm']")
    lw = ns["full"].posterior({"alarm": "on"}, num_samples=100_000)
    assert float(lw["sick"][1]) == pytest.approx(0.743, abs=0.02)
    do = ns["full"].intervene({"bp": 160.0}).posterior({}, ["alarm"])["alarm"]
    assert float(do[1]) == pytest.approx(0.88, abs=0.02)
    p = ns["p"]
    assert p["lacZ"].batch_shape == (3,) and p.joint.batch_shape == (3,) and p.log_evidence.shape == (3,)


def test_the_cvae_block_runs_with_two_steps():
    code = _blocks()[1].replace("num_steps=1200", "num_steps=2")
    ns = {"__name__": "doc", "BayesNet": __import__("probgen.bayesnet", fromlist=["BayesNet"]).BayesNet}
    exec(compile(code, str(DOC), "exec"), ns)
    assert ns["threes"].shape == (16, 1, 28, 28) and ns["sevens"].shape == (16, 1, 28, 28)
    assert len(ns["bn"].fit_info["losses"]) == 2
