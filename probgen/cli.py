"""The ``probgen`` command line.

``probgen --version``, ``probgen data list``, ``probgen demo`` and one ``probgen train <family>`` per model
family. Each family adds its commands from ``probgen/<family>/cli.py``, which defines
``register(train: argparse._SubParsersAction, top: argparse._SubParsersAction)`` and
``demo(run: RunDir, quick: bool) -> str`` (a Markdown section for the demo report).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from probgen._version import __version__

FAMILIES = ("vae", "bayesnet", "gan")


def family_cli(name: str) -> ModuleType | None:
    """The CLI module of a model family (``probgen.<name>.cli``), or None if the family has none."""
    try:
        return importlib.import_module(f"probgen.{name}.cli")
    except ModuleNotFoundError as e:
        if e.name == f"probgen.{name}.cli":
            return None
        raise


def available_families() -> list[str]:
    return [name for name in FAMILIES if family_cli(name) is not None]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="probgen", description="Probabilistic generative models on Pyro.")
    parser.add_argument("--version", action="version", version=f"probgen {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = top.add_parser("data", help="data sets")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.add_parser("list", help="list the named data sets").set_defaults(func=_data_list)

    demo = top.add_parser("demo", help="run every model family briefly on offline data and write a report")
    demo.add_argument("--out", default="runs/demo", help="report folder (default: runs/demo)")
    demo.add_argument("--quick", action="store_true", help="tiny settings (seconds, for smoke tests)")
    demo.add_argument("--only", choices=available_families(), nargs="+", help="run only these families")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)

    train = top.add_parser("train", help="train a model")
    train_sub = train.add_subparsers(dest="family", metavar="FAMILY")
    for name in available_families():
        family_cli(name).register(train_sub, top)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    from probgen.progress import set_quiet

    set_quiet(args.quiet)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as e:  # user-input errors: one line, no traceback
        if getattr(args, "debug", False):
            raise
        print(f"probgen: error: {e}", file=sys.stderr)
        return 2


def _data_list(args) -> int:
    from probgen.data import _INFO

    print(f"{'name':<14} {'shape (C, H, W)':<16} {'offline':<8} description")
    for info in _INFO.values():
        offline = "yes" if info.offline else "no"
        print(f"{info.name:<14} {str(info.shape):<16} {offline:<8} {info.description}")
    return 0


def _demo(args) -> int:
    from probgen.demo import run_demo

    report = run_demo(args.out, quick=args.quick, only=args.only, seed=args.seed)
    print(f"demo report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
