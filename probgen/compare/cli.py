"""``probgen compare``: the parser imports no torch; the command imports :func:`probgen.compare.run.run`.

Every value is checked by :class:`~probgen.compare.config.CompareConfig`, so a bad one (a budget such as
``10min``, an unknown data set, a negative seed) ends in one line ``probgen: error: ...`` with status 2.
"""

from __future__ import annotations

import argparse

from probgen.compare.config import DATASETS, FULL_REPEATS, FULL_SAMPLES, CompareConfig
from probgen.errors import ProbgenError

DESCRIPTION = (
    "Train explicit models by the ELBO and implicit ones adversarially on the same data, with the same "
    "decoder/generator network and the same budget each (a VAE, the GAN with the non-saturating loss, the "
    "same GAN with the saturating minimax loss, a conditional VAE and a conditional GAN; the DDPM with "
    "--ddpm), score them all with one evaluator, and write table.md, table.csv, reading.md and figures/ to "
    "--out. Cost on a 2-core CPU, one thread: about 0.07 CPU seconds per step per model (--budget 1500steps: "
    "about 9 CPU minutes for the five models with their evaluation; 4000steps about 25); --quick: about 20 "
    "CPU seconds. A busy machine stretches the wall time."
)
EPILOG = "example: probgen compare --data mnist-5k --budget 4000steps --out runs/compare"


def register(top) -> None:
    """Add ``probgen compare`` to the top-level subparsers action ``top``."""
    p = top.add_parser("compare", help="train VAEs and GANs under one budget and compare them",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--data", default="mnist-5k",
                   help=f"data set with a metric classifier: {', '.join(DATASETS)}")
    p.add_argument("--budget", default="600s",
                   help="per model: wall seconds ('600s') or training steps ('4000steps'); only a step "
                        "budget repeats exactly")
    p.add_argument("--out", default="runs/compare", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="smoke-sized run: at most 30 steps per model, 200 samples, 2 sample sets")
    p.add_argument("--ddpm", action="store_true", help="also train and score the DDPM (slow to sample)")
    p.add_argument("--seed", default="0", help="random seed")
    p.add_argument("--num-samples", default=None,
                   help=f"images per model and sample set (default: {FULL_SAMPLES}; --quick: 200)")
    p.add_argument("--repeats", default=None,
                   help=f"sample sets per model, for mean ± s.d. (default: {FULL_REPEATS}; --quick: 2)")
    p.set_defaults(func=_compare)


def _int(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ProbgenError(f"{option} {text!r} is not a whole number") from None


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    """The checked CompareConfig of the command line (``--device`` when given, else the CPU)."""
    return CompareConfig(data=args.data, budget=args.budget, out=args.out, quick=args.quick, ddpm=args.ddpm,
                         seed=_int("--seed", args.seed), num_samples=_int("--num-samples", args.num_samples),
                         repeats=_int("--repeats", args.repeats), device=args.device or "cpu")


def _compare(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    from probgen.compare.run import run

    result = run(cfg, progress=not args.quiet)
    print(f"compare: wrote {result.out / 'table.md'}, {result.csv_path.name}, reading.md and "
          f"{len(result.figures)} figures")
    return 0
