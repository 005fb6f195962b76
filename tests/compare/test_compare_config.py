"""CompareConfig and the compare command's parser: checked values, one-line errors, no torch at --help."""

import subprocess
import sys

import pytest

from probgen.cli import main
from probgen.compare.config import CompareConfig, parse_budget


@pytest.mark.parametrize("text, parsed", [
    ("600s", ("seconds", 600.0)), ("4000steps", ("steps", 4000)), ("1 step", ("steps", 1)),
    ("2.5 seconds", ("seconds", 2.5)), (" 30S ", ("seconds", 30.0)),
])
def test_budget_strings(text, parsed):
    assert parse_budget(text) == parsed


@pytest.mark.parametrize("text", ["10min", "steps", "", "0steps", "2.5steps", "0s", "-3s", 600])
def test_bad_budgets_name_the_field_and_the_forms(text):
    with pytest.raises(ValueError, match="`budget`") as e:
        CompareConfig(budget=text)
    assert repr(text) in str(e.value)


@pytest.mark.parametrize("field, value, match", [
    ("data", "mnist", "did you mean 'mnist-5k'"), ("seed", -1, "`seed`"), ("num_samples", 5, "`num_samples`"),
    ("repeats", 0, "`repeats`"), ("quick", "yes", "`quick`"), ("device", "gpu", "`device`"),
    ("out", 3, "`out`"),
])
def test_every_field_is_checked(field, value, match):
    with pytest.raises((ValueError, TypeError), match=match):
        CompareConfig(**{field: value})


def test_quick_caps_the_budget_at_a_step_budget():
    assert CompareConfig(quick=True, budget="600s").steps_or_seconds == ("steps", 30)
    assert CompareConfig(quick=True, budget="5steps").steps_or_seconds == ("steps", 5)
    assert CompareConfig(budget="600s").steps_or_seconds == ("seconds", 600.0)
    assert (CompareConfig(quick=True).samples, CompareConfig().samples) == (200, 1000)
    with pytest.raises(ValueError, match="unknown CompareConfig key 'budgets'; did you mean 'budget'"):
        CompareConfig.from_dict({"budgets": "3steps"})


@pytest.mark.parametrize("argv, says", [
    (["--budget", "10min"], "`budget`='10min' is not a budget"),
    (["--seed", "x"], "--seed 'x' is not a whole number"),
    (["--data", "cifar"], "`data`='cifar'"),
])
def test_cli_errors_are_one_line_with_status_2(capsys, tmp_path, argv, says):
    assert main(["compare", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("probgen: error: ") and says in err
    assert not (tmp_path / "o").exists()


def test_compare_help_imports_no_torch():
    code = ("import sys\nfrom probgen.cli import main\ntry:\n    main(['compare', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'torchvision', 'pyro')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--budget" in res.stdout and res.stdout.strip().endswith("[]")
