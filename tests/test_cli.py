import subprocess
import sys

import pytest

from probgen import __version__
from probgen.cli import FAMILIES, family_cli, main


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"probgen {__version__}"


def test_console_script_is_installed():
    res = subprocess.run([sys.executable, "-m", "probgen.cli", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and __version__ in res.stdout


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist-5k" in out and "digits" in out and "cifar10" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: probgen" in capsys.readouterr().out


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_plugs_into_cli_and_demo(family):
    mod = family_cli(family)
    assert mod is not None, f"probgen/{family}/cli.py is missing"
    assert callable(mod.register) and callable(mod.demo)


def test_user_errors_are_one_line(capsys, monkeypatch):
    import probgen.cli as cli

    def boom(args):
        raise ValueError("`thing`=3 is wrong; use 4")

    monkeypatch.setattr(cli, "_data_list", boom)  # the parser binds it when main() builds the parser
    assert main(["data", "list"]) == 2
    assert capsys.readouterr().err == "probgen: error: `thing`=3 is wrong; use 4\n"
