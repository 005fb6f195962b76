"""``probgen bn fit`` and ``probgen bn learn``: the library's estimates, written as BIF; bad input exits 2
with one line naming the argument."""

import numpy as np
import pandas as pd
import pytest
import torch

import probgen
from probgen.bayesnet import read_bif
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.learn import learn_network
from probgen.cli import main


@pytest.fixture(scope="module")
def asia_csv(tmp_path_factory):
    probgen.seed(12)
    asia = load_network("asia")
    s = asia.sample(4000)
    frame = pd.DataFrame({n: np.asarray(asia.states(n), dtype=object)[s[n].numpy()] for n in asia.nodes})
    folder = tmp_path_factory.mktemp("rows")
    frame.to_csv(folder / "rows.csv", index=False)
    gaps = frame.mask(np.random.default_rng(0).random(frame.shape) < 0.1)
    gaps.to_csv(folder / "gaps.csv", index=False)
    return asia, folder, frame, gaps


def test_fit_writes_the_library_estimate(asia_csv, tmp_path, capsys):
    asia, folder, frame, gaps = asia_csv
    out = tmp_path / "fitted.bif"
    assert main(["bn", "fit", "asia", str(folder / "rows.csv"), "-o", str(out)]) == 0
    assert "method: mle" in capsys.readouterr().out
    want = asia.fit(frame)
    got = read_bif(out)
    assert all(torch.allclose(got.cpt(n), want.cpt(n), atol=1e-12) for n in asia.nodes)
    assert main(["bn", "fit", "asia", str(folder / "gaps.csv"), "-o", str(out), "--method", "em"]) == 0
    assert "EM: " in capsys.readouterr().out
    want = asia.fit(gaps)
    assert all(torch.allclose(read_bif(out).cpt(n), want.cpt(n), atol=1e-12) for n in asia.nodes)


def test_learn_writes_a_network(asia_csv, tmp_path, capsys):
    _, folder, frame, _ = asia_csv
    out = tmp_path / "learned.bif"
    for method in ("hill-climb", "pc"):
        assert main(["bn", "learn", str(folder / "rows.csv"), "--method", method, "-o", str(out)]) == 0
        want = learn_network(frame, method=method)
        assert set(read_bif(out).edges) == set(want.edges), method
    assert main(["bn", "learn", str(folder / "rows.csv"), "--score", "k2", "--required", "smoke->xray",
                 "-o", str(out)]) == 0
    assert ("smoke", "xray") in read_bif(out).edges


@pytest.mark.parametrize("argv, message", [
    (["train", "bn", "--data", "{rows}", "--max-indegree", "-2"],
     "`max_indegree` must be an int >= 0, got -2"),
    (["bn", "learn", "{rows}", "--method", "pc", "--score", "bic"], "options ['score'] do not apply to "
                                                                   "method='pc'"),
    (["bn", "learn", "{rows}", "--required", "smoke->xray", "--forbidden", "smoke->xray"],
     "both required and forbidden"),
    (["bn", "learn", "{gaps}"], "data column 'asia' has missing values"),
    (["bn", "fit", "asia", "{rows}", "--max-iter", "-3", "--method", "em"], "`max_iter` must be an int >= 1"),
    (["bn", "fit", "asia", "{rows}", "--method", "bayes", "--ess", "-1"], "`equivalent_sample_size` must be"),
    (["bn", "fit", "asia", "nothing.csv"], "no CSV file at 'nothing.csv'"),
])
def test_bad_input_exits_2_naming_the_argument(asia_csv, argv, message, capsys):
    _, folder, _, _ = asia_csv
    argv = [a.format(rows=folder / "rows.csv", gaps=folder / "gaps.csv") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("probgen: error: ") and message in err and err.count("\n") == 1
