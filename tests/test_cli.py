"""The ``probgen`` command: global options before or after any subcommand, help texts, exit statuses, and
help/version commands that import no torch, torchvision or Pyro."""

import argparse
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import probgen.cli as cli
from probgen import __version__
from probgen.cli import GLOBAL_DEFAULTS, HelpFormatter, build_parser, main
from probgen.errors import TrainingDiverged
from probgen.families import FAMILIES, family_cli
from probgen.progress import is_quiet

ROOT = Path(__file__).parents[1]

# Families whose issue-8 branch (lazy package, torch-free cli module, no own --device/--debug, help on
# every option) is not merged yet: their cases are expected failures (strict: a case that starts passing
# fails, so the lead removes the name here at merge).
PENDING = {
    "imports torch": set(),
    "own global options": set(),
    "help gaps": set(),
}


def _pending(concern: str, *families: str):
    waiting = sorted(set(families) & PENDING[concern])
    return pytest.mark.xfail(bool(waiting), strict=True, reason=f"{concern}: {waiting} not merged yet")


def _case(concern: str, value, *families: str):
    return pytest.param(value, marks=_pending(concern, *families), id=str(value))


# ------------------------------------------------------------------------------------------- basics
def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"probgen {__version__}"


def test_console_script_is_installed():
    res = subprocess.run([sys.executable, "-m", "probgen.cli", "--version"], capture_output=True, text=True,
                         cwd=ROOT)
    assert res.returncode == 0 and __version__ in res.stdout


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist-5k" in out and "digits" in out and "cifar10" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: probgen" in capsys.readouterr().out


def test_command_group_without_action_prints_its_own_help(capsys):
    assert main(["train"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: probgen train") and "FAMILY" in out


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_plugs_into_cli_and_demo(family):
    mod = family_cli(family)
    assert mod is not None, f"probgen/{family}/cli.py is missing"
    assert callable(mod.register) and callable(mod.demo)


def test_demo_does_not_import_the_cli():
    """No import circle: both find the families in probgen.families; only cli imports demo (lazily)."""
    assert "probgen.cli" not in (ROOT / "probgen" / "demo.py").read_text()


# ----------------------------------------------------------------------------------- global options
def _fake_family(seen: list) -> types.SimpleNamespace:
    """A family with ``train fake POS [--width N]`` and a top-level ``fake sub``; it records its args."""

    def register(train, top):
        p = train.add_parser("fake", help="a fake family")
        p.add_argument("pos", help="a positional argument")
        p.add_argument("--width", type=int, default=3, help="a family option")
        p.set_defaults(func=seen.append)
        sub = top.add_parser("fake", help="fake tools").add_subparsers(dest="fake_command", required=True)
        sub.add_parser("sub", help="a nested command").set_defaults(func=seen.append)

    return types.SimpleNamespace(register=register, demo=lambda run, quick: "## Fake\n")


@pytest.fixture
def fake(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "available_families", lambda: ["fake"])
    monkeypatch.setattr(cli, "family_cli", lambda name: _fake_family(seen))
    return seen


GIVEN = ["--quiet", "--debug", "--device", "cpu"]


@pytest.mark.parametrize("argv", [
    [*GIVEN, "train", "fake", "x"],
    ["train", "fake", "x", *GIVEN],
    ["train", *GIVEN, "fake", "x"],
    ["--quiet", "train", "fake", "--debug", "x", "--device", "cpu"],
    [*GIVEN, "fake", "sub"],
    ["fake", "sub", *GIVEN],
    ["fake", "--quiet", "--debug", "sub", "--device", "cpu"],
], ids=["before", "after", "between", "spread", "top-before", "top-after", "top-between"])
def test_global_options_anywhere(fake, argv):
    assert main(argv) == 0
    args = fake[-1]
    assert (args.quiet, args.debug, args.device) == (True, True, "cpu") and is_quiet()


@pytest.mark.parametrize("argv", [["train", "fake", "x"], ["fake", "sub"], ["data", "list"]])
def test_global_options_not_given_have_the_top_level_defaults(fake, argv):
    args = build_parser(["fake"]).parse_args(argv)
    assert {k: getattr(args, k) for k in GLOBAL_DEFAULTS} == GLOBAL_DEFAULTS


def test_the_innermost_device_wins(fake):
    args = build_parser(["fake"]).parse_args(["--device", "cpu", "train", "fake", "x", "--device", "cuda"])
    assert args.device == "cuda" and args.width == 3


def test_quiet_after_data_list(capsys):
    assert main(["data", "list", "--quiet"]) == 0 and is_quiet()
    assert main(["data", "list"]) == 0 and not is_quiet()


REAL = {"vae": ["train", "vae"], "gan": ["train", "gan"], "bayesnet": ["train", "bn", "--data", "rows.csv"]}


@pytest.mark.parametrize("family", FAMILIES)
def test_quiet_after_every_family_command(family):
    """`probgen train gan ... --quiet` exited 2 before issue 8."""
    args = build_parser([family]).parse_args([*REAL[family], "--quiet"])
    assert args.quiet is True


@pytest.mark.parametrize("family", [_case("own global options", f, f) for f in FAMILIES])
def test_global_options_reach_every_family(family):
    parser, argv = build_parser([family]), REAL[family]
    for given in ([*GIVEN, *argv], [*argv, *GIVEN]):
        args = parser.parse_args(given)
        assert (args.quiet, args.debug, args.device) == (True, True, "cpu"), given
    args = parser.parse_args(argv)
    assert {k: getattr(args, k) for k in GLOBAL_DEFAULTS} == GLOBAL_DEFAULTS


@pytest.mark.parametrize("family", [_case("own global options", f, f) for f in FAMILIES])
def test_no_family_defines_the_global_options_again(family):
    for prog, parser in list(_parsers(build_parser([family])))[1:]:  # below the top level
        for action in parser._actions:
            for flag in set(action.option_strings) & {"--quiet", "--debug", "--device"}:
                assert action.default is argparse.SUPPRESS, f"`{prog}` defines its own {flag}"


# --------------------------------------------------------------------------------------------- help
def _parsers(parser: argparse.ArgumentParser, prog: str = "probgen"):
    """(prog, parser) for ``parser`` and every subcommand parser below it (argparse internals: tests only)."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def _check_help(parser: argparse.ArgumentParser) -> list[str]:
    docs = [m.__doc__.strip() for m in (cli, *filter(None, map(family_cli, FAMILIES))) if m.__doc__]
    problems = []
    for prog, p in _parsers(parser):
        if p.formatter_class is not HelpFormatter:
            problems.append(f"`{prog}` does not use probgen.cli.HelpFormatter")
        desc = (p.description or "").strip()
        if desc and (desc in docs or "``" in desc):
            problems.append(f"`{prog} --help` prints a raw module docstring")
        for action in p._actions:
            if action.option_strings and action.help != argparse.SUPPRESS and not (action.help or "").strip():
                problems.append(f"`{prog}` option {'/'.join(action.option_strings)} has no help")
    return problems


def test_every_top_level_option_has_help():
    problems = _check_help(build_parser([]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", [_case("help gaps", f, f) for f in FAMILIES])
def test_every_family_option_has_help(family):
    problems = _check_help(build_parser([family]))
    assert not problems, "\n".join(problems)


def test_help_shows_defaults_and_the_global_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "report folder (default: runs/demo)" in out and "random seed (default: 0)" in out
    assert "global options (also accepted before the command)" in out and "--quiet" in out
    assert "--quick" in out and "(default: False)" not in out  # flags show no default


def test_help_formatter_keeps_a_default_written_in_the_help():
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    parser.add_argument("--a", default=3, help="first")
    parser.add_argument("--b", default=None, help="second (default: all)")
    text = parser.format_help()
    assert "first (default: 3)" in text and "second (default: all)" in text and "None" not in text


# --------------------------------------------------------------------------------------- exit status
def _raising(monkeypatch, error: Exception) -> None:
    def boom(args):
        raise error

    monkeypatch.setattr(cli, "_data_list", boom)  # the parser binds it when main() builds the parser


@pytest.mark.parametrize("error, status", [
    (ValueError("`thing`=3 is wrong; use 4"), 2),
    (TypeError("`thing` must be an int, got 'a'"), 2),
    (TrainingDiverged("loss is NaN at step 7; last good checkpoint: runs/x/checkpoints/last.pt"), 1),
], ids=["ValueError", "TypeError", "TrainingDiverged"])
def test_errors_are_one_line_with_their_status(capsys, monkeypatch, error, status):
    _raising(monkeypatch, error)
    assert main(["data", "list"]) == status
    assert capsys.readouterr().err == f"probgen: error: {error}\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_adds_the_traceback(capsys, monkeypatch, where):
    _raising(monkeypatch, TrainingDiverged("loss is NaN at step 7"))
    argv = ["--debug", "data", "list"] if where == "before" else ["data", "list", "--debug"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in boom" in err
    assert err.endswith("probgen: error: loss is NaN at step 7\n")


def test_other_errors_are_not_hidden(monkeypatch):
    _raising(monkeypatch, RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["data", "list"])


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["data", "list", "--no-such-option"])
    assert e.value.code == 2 and "unrecognized arguments: --no-such-option" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ no torch on start
HEAVY = ("torch", "torchvision", "pyro")
PROBE = """
import sys
import probgen.families
if {families!r} is not None:
    probgen.families.FAMILIES = {families!r}
from probgen.cli import main
for argv in {commands!r}:
    try:
        main(argv)
    except SystemExit:
        pass
    heavy = sorted(set({heavy!r}) & {{name.partition(".")[0] for name in sys.modules}})
    print("probe:", " ".join(argv), "->", ",".join(heavy), file=sys.stderr)
"""


def _imported(commands: list[list[str]], families) -> dict[str, str]:
    """{command: heavy modules imported so far} from running ``commands`` in one fresh interpreter."""
    code = PROBE.format(families=families, commands=commands, heavy=HEAVY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line[len("probe: "):] for line in res.stderr.splitlines() if line.startswith("probe: ")]
    return dict(line.split(" -> ") for line in lines)


TOP = [["--help"], ["--version"], ["data", "list"], ["data", "--help"], ["demo", "--help"],
       ["train", "--help"], ["edit", "--help"]]


def test_top_level_commands_import_no_torch():
    """The top level alone (no family registered) imports none of torch, torchvision, Pyro."""
    assert _imported(TOP, families=()) == {" ".join(c): "" for c in TOP}


FAMILY_HELP = {"vae": [["train", "vae", "--help"]], "gan": [["train", "gan", "--help"]],
               "bayesnet": [["train", "bn", "--help"], ["bn", "--help"], ["bn", "query", "--help"]]}


@pytest.mark.parametrize("family", [_case("imports torch", f, f) for f in FAMILIES])
def test_family_help_imports_no_torch(family):
    commands = FAMILY_HELP[family]
    assert _imported(commands, families=(family,)) == {" ".join(c): "" for c in commands}


@pytest.mark.parametrize("families", [_case("imports torch", "all", *FAMILIES)])
def test_probgen_help_and_version_import_no_torch(families):
    commands = [["--help"], ["--version"], ["data", "list"]]
    assert _imported(commands, families=None) == {" ".join(c): "" for c in commands}
