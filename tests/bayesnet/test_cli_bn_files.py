"""``probgen bn ...`` and ``probgen train bn`` with files that are missing, folders, or not what they
should be: one line ``probgen: error: ...`` naming the option and the path, exit status 2, no traceback,
and nothing learned or sampled before an unusable output path is refused."""

import pytest

from probgen.bayesnet import load_network, read_bif, write_bif
from probgen.cli import main


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working folder with a file ``afile``, a folder ``adir`` and ``rows.csv`` (asia samples)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "adir").mkdir()
    assert main(["bn", "sample", "asia", "-n", "200", "--out", "rows.csv"]) == 0
    return tmp_path


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("probgen: error: ") and "Traceback" not in err and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("argv, match", [
    (["train", "bn", "--data", "missing.csv"], "`--data` 'missing.csv': no such file"),
    (["train", "bn", "--data", "adir"], "`--data` 'adir' is a folder; give a file"),
    (["train", "bn", "--data", "rows.csv", "--graph", "missing.txt"], "`--graph` 'missing.txt': no such"),
    (["train", "bn", "--data", "rows.csv", "--graph", "missing.bif"], "`--graph` 'missing.bif': no such"),
    (["train", "bn", "--data", "rows.csv", "--graph", "adir"], "`--graph` 'adir' is a folder"),
    (["train", "bn", "--data", "rows.csv", "--out", "afile/x.bif"],
     "`--out` 'afile/x.bif': 'afile' is a file, not a folder"),
    (["train", "bn", "--data", "rows.csv", "--out", "adir"], "`--out` 'adir' is a folder; give a file name"),
    (["bn", "sample", "asia", "--out", "afile/sub/x.csv"], "`--out` 'afile/sub/x.csv': 'afile' is a file"),
    (["bn", "sample", "asia", "--out", "adir"], "`--out` 'adir' is a folder"),
    (["bn", "draw", "asia", "--out", "afile/x.png"], "`--out` 'afile/x.png': 'afile' is a file"),
    (["bn", "draw", "asia", "--out", "adir"], "`--out` 'adir' is a folder"),
    (["bn", "query", "missing.bif"], "no BIF file at 'missing.bif'"),
    (["bn", "info", "adir"], "'adir' is a folder; give a .bif/.bif.gz file"),
    (["bn", "info", "afile"], "afile, line 1, column 1: expected 'network'"),
])
def test_file_errors_name_the_option_and_the_path(place, capsys, argv, match):
    assert match in _error(capsys, argv)


def test_binary_files_are_named(place, capsys):
    (place / "bin.csv").write_bytes(b"\xff\xfe\x00\x01" * 10)
    assert "`--data` 'bin.csv' is not a CSV text file" in _error(capsys, ["train", "bn", "--data", "bin.csv"])
    argv = ["train", "bn", "--data", "rows.csv", "--graph", "bin.csv"]
    assert "`--graph` 'bin.csv' is not a text file of edges" in _error(capsys, argv)


def test_missing_output_folders_are_created(place, capsys):
    assert main(["bn", "sample", "asia", "-n", "5", "--out", "new/deeper/rows.csv"]) == 0
    assert (place / "new/deeper/rows.csv").read_text().count("\n") == 6
    assert main(["train", "bn", "--data", "rows.csv", "--out", "models/asia.bif", "--max-indegree", "1"]) == 0
    assert set(read_bif(place / "models/asia.bif").nodes) == set(load_network("asia").nodes)


def test_write_bif_names_a_bad_path(place):
    bn = load_network("asia")
    with pytest.raises(ValueError, match=r"`path` 'adir' is a folder"):
        write_bif(bn, "adir")
    with pytest.raises(ValueError, match=r"`path` 'afile/x\.bif': 'afile' is a file, not a folder"):
        write_bif(bn, "afile/x.bif")
    assert read_bif(write_bif(bn, "deep/er/x.bif.gz")).equals(bn)
