"""The ``probgen`` command line.

``probgen --version``, ``probgen data list``, ``probgen demo``, ``probgen edit`` (``probgen.editing.cli``)
and one ``probgen train <family>`` per model family; each family adds its commands from
``probgen/<family>/cli.py`` (``register(train, top)``, see ``probgen.families`` and DEVELOPING.md).

Global options (``--quiet``, ``--debug``, ``--device``) are defined here only. Every parser below the top
one is a ``_SubParser``, which adds them again with ``default=argparse.SUPPRESS``, so they are accepted
before or after any subcommand and a family reads them as ``args.quiet``, ``args.debug`` and
``args.device`` (None: not given, the family's default applies). This module and ``probgen.families``
import no torch; ``probgen --help`` is as fast as the family CLI modules' imports allow.
"""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
import traceback
from pathlib import Path

from probgen._version import __version__
from probgen.errors import TrainingDiverged, TrainingInterrupted
from probgen.families import available_families, demo_sections, family_cli

# The global options' values when they are not given anywhere; device None: the command's own default.
GLOBAL_DEFAULTS = {"quiet": False, "debug": False, "device": None}


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions as written (line breaks kept); every option's help ends with its default.

    Flags (options that take no value) and help texts that already say "default" get nothing appended.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.nargs == 0 or "default" in (action.help or "").lower():
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """The top-level parser: ``HelpFormatter``, and subcommand parsers that are ``_SubParser``s.

    A parser with subcommands prints its own help (exit status 2) when no subcommand is given.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["formatter_class"] = HelpFormatter  # one help style for every command, the families' too
        super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("parser_class", _SubParser)
        if self.get_default("func") is None:
            self.set_defaults(func=functools.partial(_print_help, self))
        return super().add_subparsers(**kwargs)


class _SubParser(_Parser):
    """A subcommand's parser: the global options again, with SUPPRESS defaults (see the module docstring).

    A family that defines ``--quiet``, ``--debug`` or ``--device`` itself fails when the parser is built.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _add_global_options(self, defaults=False)


def _add_global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """``--quiet``, ``--debug``, ``--device`` on ``parser``; with ``defaults=False`` an option that is not
    given leaves the namespace alone (the top-level value stands)."""
    group = parser.add_argument_group("global options" if defaults else
                                      "global options (also accepted before the command)")
    default = GLOBAL_DEFAULTS.get if defaults else (lambda name: argparse.SUPPRESS)
    group.add_argument("--quiet", action="store_true", default=default("quiet"), help="no progress bars")
    group.add_argument("--debug", action="store_true", default=default("debug"),
                       help="show the full traceback of an error before its one-line message")
    group.add_argument("--device", metavar="DEVICE", default=default("device"),
                       help="auto | cpu | cuda | cuda:N for commands that train (default: the command's "
                            "own, usually auto)")


def build_parser(families: list[str] | tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The ``probgen`` parser with the commands of ``families`` (default: every available family)."""
    families = available_families() if families is None else list(families)
    parser = _Parser(prog="probgen", description="Probabilistic generative models on Pyro.")
    parser.add_argument("--version", action="version", version=f"probgen {__version__}")
    _add_global_options(parser, defaults=True)
    top = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = top.add_parser("data", help="data sets", description="Named data sets.")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.add_parser("list", help="list the named data sets",
                        description="List the named data sets (name, image shape, offline or not).",
                        ).set_defaults(func=_data_list)

    demo = top.add_parser("demo", help="run every model family briefly on offline data and write a report",
                          description="Run every model family briefly on offline data (VAE, Bayesian "
                                      "network, GAN, their comparison, KL, diffusion) and write "
                                      "runs/demo/report.html, one self-contained page (and report.md). "
                                      "About 2.5 minutes on 2 CPU cores (141 s measured at load average "
                                      "3, docs/benchmarks.md), longer on a busier machine; each section "
                                      "prints its expected time.")
    demo.add_argument("--out", default="runs/demo", help="report folder")
    demo.add_argument("--quick", action="store_true",
                      help="tiny settings (under a minute: checks the plumbing, the models are untrained)")
    demo.add_argument("--only", choices=demo_sections(families),
                      nargs="+", help="run only these sections (default: all)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_demo)

    from probgen.compare.cli import register as register_compare  # torch-free until a command runs
    from probgen.editing.cli import register as register_edit

    register_compare(top)
    register_edit(top)

    train = top.add_parser("train", help="train a model", description="Train a model of one family.")
    train_sub = train.add_subparsers(dest="family", metavar="FAMILY")
    for name in families:
        family_cli(name).register(train_sub, top)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``probgen`` command; returns the exit status.

    0: done. 1: the run failed (``TrainingDiverged``). 2: a usage or user-input error (argparse's, or a
    ValueError/TypeError raised by the command). 130: interrupted (Ctrl-C); a training command then says
    where its last checkpoint is and prints the command that resumes it. Errors print one line; ``--debug``
    adds the traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    from probgen.progress import set_quiet

    set_quiet(args.quiet)
    try:
        return int(args.func(args) or 0)
    except TrainingDiverged as e:  # a ValueError too: caught first, it is a failed run, not bad input
        return _report(e, args.debug, status=1)
    except (ValueError, TypeError) as e:
        return _report(e, args.debug, status=2)
    except KeyboardInterrupt as e:
        return _interrupted(e, args, argv)


def _report(error: Exception, debug: bool, status: int) -> int:
    """Print ``error`` as one line (after its traceback under ``--debug``); return ``status``."""
    if debug:
        traceback.print_exception(error)
    print(f"probgen: error: {error}", file=sys.stderr)
    return status


def _interrupted(error: KeyboardInterrupt, args: argparse.Namespace, argv: list[str]) -> int:
    """Ctrl-C: no traceback (unless ``--debug``); for a training command (one with ``--out`` and
    ``--resume``), where its last checkpoint is and the exact command that resumes it. Returns 130."""
    if args.debug:
        traceback.print_exception(error)
    out = getattr(args, "out", None)
    resumable = out is not None and hasattr(args, "resume")
    checkpoint = getattr(error, "checkpoint", None)
    if checkpoint is None and resumable and not isinstance(error, TrainingInterrupted):
        last = Path(out) / "checkpoints" / "last.pt"  # interrupted outside the loop (set-up, final figures)
        checkpoint = last if last.is_file() else None
    if isinstance(error, TrainingInterrupted):
        print(f"probgen: {error}", file=sys.stderr)
    else:
        where = f"; the last checkpoint is {checkpoint}" if checkpoint is not None else ""
        print(f"probgen: interrupted{where}", file=sys.stderr)
    if resumable:
        again = argv if "--resume" in argv else [*argv, "--resume"]
        hint = "resume with" if checkpoint is not None else "nothing to resume yet; start again with"
        print(f"{hint}: probgen {shlex.join(again)}", file=sys.stderr)
    return 130


def _print_help(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    parser.print_help()
    return 2


def _data_list(args: argparse.Namespace) -> int:
    from probgen.catalog import dataset_info, list_datasets

    print(f"{'name':<14} {'shape (C, H, W)':<16} {'offline':<8} description")
    for info in map(dataset_info, list_datasets()):
        offline = "yes" if info.offline else "no"
        print(f"{info.name:<14} {str(info.shape):<16} {offline:<8} {info.description}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from probgen.demo import run_demo

    report = run_demo(args.out, quick=args.quick, only=args.only, seed=args.seed)
    print(f"demo report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
