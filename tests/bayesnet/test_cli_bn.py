"""``probgen bn ...`` and ``probgen train bn``; oracle for the numbers: the brute-force joint of asia."""

import csv

import pytest
from bn_helpers import joint

from probgen.bayesnet import read_bif, write_bif
from probgen.bayesnet.cli import evidence_from_words, read_csv
from probgen.bayesnet.io.bundled import load_network
from probgen.bayesnet.learn.structure import hill_climb
from probgen.cli import main
from probgen.runs import RunDir


@pytest.fixture(scope="module")
def asia():
    return load_network("asia")


def _p_yes(asia, target, evidence):
    """P(target=yes | evidence) from the joint table (all states 'yes' = index 0)."""
    t = joint(asia)
    index = [slice(None)] * len(asia.nodes)
    for node, state in evidence.items():
        k = asia.state_index(node, state)
        index[asia.nodes.index(node)] = slice(k, k + 1)
    sub = t[tuple(index)]
    axis = asia.nodes.index(target)
    return float(sub.select(axis, 0).sum() / sub.sum())


def test_info_lists_nodes_and_a_table(capsys):
    assert main(["bn", "info", "asia"]) == 0
    out = capsys.readouterr().out
    assert "BayesNet('unknown', 8 nodes, 8 edges" in out and "either" in out and "lung, tub" in out
    assert main(["bn", "info", "asia", "--node", "either"]) == 0
    out = capsys.readouterr().out
    assert "lung=no, tub=no" in out and "parents ['lung', 'tub']" in out


def test_query_prints_exact_posteriors(asia, capsys):
    assert main(["bn", "query", "asia", "-e", "xray=yes", "dysp=yes", "-t", "lung", "tub"]) == 0
    out = capsys.readouterr().out
    lines = {tuple(line.split()[:2]): float(line.split()[2]) for line in out.splitlines()[3:] if line.strip()}
    for target in ("lung", "tub"):
        expected = _p_yes(asia, target, {"xray": "yes", "dysp": "yes"})
        assert lines[(target, "yes")] == pytest.approx(expected, abs=1e-6)
    assert out.startswith("P(xray=yes, dysp=yes) = 0.0706")


def test_query_with_likelihood_weighting(asia, capsys):
    assert main(["bn", "query", "asia", "-e", "xray=yes", "-t", "lung", "--approx", "20000"]) == 0
    out = capsys.readouterr().out
    ess = float(out.splitlines()[0].rsplit(" ", 1)[1])
    got = float(next(line.split()[2] for line in out.splitlines() if line.startswith("lung  yes")))
    p = _p_yes(asia, "lung", {"xray": "yes"})
    assert abs(got - p) <= 5 * (p * (1 - p) / ess) ** 0.5  # 5 standard errors at the effective size


def test_map_and_sample_and_draw(tmp_path, capsys):
    assert main(["bn", "map", "asia", "-e", "xray=yes"]) == 0
    assert "most probable explanation given xray=yes" in capsys.readouterr().out
    out = tmp_path / "rows.csv"
    assert main(["bn", "sample", "asia", "-n", "50", "--out", str(out), "--seed", "1"]) == 0
    with out.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == load_network("asia").nodes and len(rows) == 51 and set(rows[1]) <= {"yes", "no"}
    png = tmp_path / "dag.png"
    assert main(["bn", "draw", "asia", "--out", str(png), "--highlight", "xray"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_train_learns_a_network_from_csv(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    assert main(["bn", "sample", "survey", "-n", "20000", "--out", str(rows)]) == 0
    out = tmp_path / "learned.bif"
    assert main(["train", "bn", "--data", str(rows), "--out", str(out)]) == 0
    learned, survey = read_bif(out), load_network("survey")
    data = read_csv(rows)
    assert set(learned.edges) == set(hill_climb(data).edges)  # the CLI is the library's search
    assert learned.nodes and set(learned.nodes) == set(survey.nodes)
    assert learned.states("A") == sorted(survey.states("A"))
    edges = tmp_path / "edges.txt"
    edges.write_text("# the true structure\nA -> E\nS -> E\nE, O\nE -> R\nO -> T\nR -> T\n")
    assert main(["train", "bn", "--data", str(rows), "--graph", str(edges), "--out", str(out),
                 "--prior", "mle"]) == 0
    assert set(read_bif(out).edges) == set(survey.edges)
    bif = tmp_path / "survey.bif"
    write_bif(survey, bif)
    assert main(["train", "bn", "--data", str(rows), "--graph", str(bif), "--out", str(out)]) == 0


@pytest.mark.parametrize("argv, message", [
    (["bn", "info", "missing.bif"], "no BIF file at 'missing.bif'"),
    (["bn", "info", "nonet"], "unknown network 'nonet'"),
    (["bn", "query", "asia", "-e", "xray"], "must look like NODE=STATE"),
    (["bn", "query", "asia", "-e", "xray=maybe"], "unknown state 'maybe'"),
    (["bn", "query", "asia", "-e", "xrays=yes"], "unknown node 'xrays'"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("probgen: error: ") and message in err and err.count("\n") == 1


def test_evidence_words_are_read_by_the_state_encoder(asia):
    assert evidence_from_words(asia, ["xray=yes", "dysp=1"]) == {"xray": "yes", "dysp": "1"}


def test_demo_quick(tmp_path):
    from probgen.bayesnet.cli import demo

    run = RunDir(tmp_path / "demo")
    md = demo(run, quick=True)
    assert md.startswith("## Bayesian networks")
    for fig in ("bn_asia_dag.png", "bn_asia_posterior.png", "bn_asia_learned.png"):
        assert (run.figures / fig).is_file() and f"figures/{fig}" in md
    assert "| xray=yes | 0.1103 |" in md  # P(xray=yes) = 0.1103 in asia
