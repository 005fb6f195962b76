"""``probgen bn info|query|sample`` on a Gaussian network: numbers as evidence, means and standard deviations
out (equal to the Python API's), the method named, bad evidence refused naming the node."""

import re

import pytest

from probgen.bayesnet import load_network
from probgen.cli import main


def _run(capsys, *words):
    rc = main(["bn", *words])
    return rc, capsys.readouterr()


def test_query_prints_the_exact_gaussian_posterior(capsys):
    rc, out = _run(capsys, "query", "ecoli70", "-e", "lacZ=1.5", "asnA=-0.5", "-t", "lacA")
    assert rc == 0 and out.out.startswith("method: exact (every node is a linear Gaussian")
    mean, sd = map(float, re.search(r"^lacA\s+(\S+)\s+(\S+)$", out.out, re.M).groups())
    post = load_network("ecoli70").posterior({"lacZ": 1.5, "asnA": -0.5}, ["lacA"])["lacA"]
    assert mean == pytest.approx(float(post.mean), rel=1e-5)
    assert sd == pytest.approx(float(post.stddev), rel=1e-5)


def test_info_and_sample_and_bad_evidence(capsys, tmp_path):
    rc, out = _run(capsys, "info", "ecoli70")
    assert rc == 0 and "46 continuous" in out.out and "GaussianCPD(P(lacZ | asnA, lacA, lacY)" in out.out
    path = tmp_path / "s.csv"
    rc, out = _run(capsys, "sample", "ecoli70", "-n", "3", "--out", str(path))
    lines = path.read_text().splitlines()
    assert rc == 0 and len(lines) == 4 and lines[0].split(",") == load_network("ecoli70").nodes
    assert all(len([float(v) for v in line.split(",")]) == 46 for line in lines[1:])
    rc, out = _run(capsys, "query", "ecoli70", "-e", "lacZ=high")
    assert rc != 0 and "evidence on continuous node 'lacZ': 'high' is not a number" in out.err
