"""``probgen train gan`` and the GAN part of ``probgen demo``.

Options left out are "not given" (None), so that ``--resume`` can tell them from defaults: a resumed run
keeps its saved ``config.json`` and takes from the command line only what a resume may change
(``GANConfig.RESUMABLE``). This module imports no torch until a command runs (``probgen train gan --help``
reads the choices from ``probgen.gan.config``).
"""

from __future__ import annotations

import argparse
import json
import sys

from probgen.checks import check_fresh_run, check_output_folder, config_from_dict
from probgen.gan.config import DISCRIMINATORS, GENERATORS, LOSSES, GANConfig
from probgen.training.config import add_field_options, given_fields

DESCRIPTION = (
    "Train a GAN (Algorithm 1 of Goodfellow et al.: d-steps discriminator updates, then one generator "
    "update, per step) and write metrics, sample grids, curves and checkpoints to --out. Under torchrun "
    "(torchrun --nproc_per_node N -m probgen.cli train gan ...) every process trains on its shard of each "
    "epoch and rank 0 writes the run folder. Cost: the default run (DCGAN, batch 64, 1,000 steps) takes "
    "about 11 minutes on one idle CPU core (0.67 CPU s per step; --disc patchgan 0.96 s; measured on 2 "
    "cores under load and extrapolated, README 'What a run costs'); on a GPU: not measured. Data sets "
    "without a shipped metric classifier (mnist, fashion-mnist, cifar10) train with evaluation off."
)
EPILOG = "example: probgen train gan --arch dcgan --disc patchgan --data mnist-5k --steps 2000 --out runs/gan"

_D = GANConfig()

# GANConfig field -> help of its option (--field-name); the effective default is appended
_OPTIONS = {
    "data": "data set name, see `probgen data list`",
    "steps": "training steps, each d-steps D updates and one G update",
    "d_steps": "k: discriminator updates per generator update",
    "batch_size": "images per D update and process",
    "latent_dim": "size of the noise z",
    "lr_g": "generator Adam learning rate",
    "lr_d": "discriminator Adam learning rate",
    "gp_weight": "WGAN-GP lambda",
    "r1": "R1 penalty gamma on real data, 0 turns it off",
    "ema": "EMA decay of G's weights, e.g. 0.999; 0 turns it off",
    "diffaug": "DiffAugment policy, e.g. color,translation,cutout (default: none)",
    "seed": "random seed",
    "log_every": "metrics.csv row every this many steps",
    "sample_every": "sample grid every this many steps",
    "ckpt_every": "checkpoints/last.pt every this many steps",
    "eval_every": "FID for checkpoints/best.pt every this many steps, 0 turns it off (default: --ckpt-every, "
                  "0 without probgen.metrics)",
    "max_rollbacks": "rollbacks to the last good state after NaN/inf before the run stops",
}
# flag -> (GANConfig field, value when the flag is given, help)
_SWITCHES = {
    "--conditional": ("conditional", True, "class-conditional G and D on the data set's labels "
                                           "(default: unconditional)"),
    "--no-amp": ("amp", False, "no bf16 autocast on CUDA (default: autocast on CUDA)"),
    "--no-channels-last": ("channels_last", False, "keep NCHW memory format on CUDA "
                                                   "(default: channels-last)"),
    "--compile": ("compile", True, "torch.compile the networks (default: eager)"),
}


def _key_value(text: str) -> tuple[str, object]:
    """``key=value`` with a JSON value when it parses (``depth=[2,2]``, ``ngf=32``), else a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _add_arguments(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--arch", choices=GENERATORS, help=f"generator architecture (default: {_D.arch})")
    a("--disc", choices=DISCRIMINATORS, help=f"discriminator architecture (default: {_D.disc})")
    a("--loss", choices=LOSSES, help="'minimax' is the saturating objective as written; common code calls "
                                     f"'non-saturating' minimax (default: {_D.loss})")
    add_field_options(p, _D, _OPTIONS)
    for flag, (_, _, help_) in _SWITCHES.items():
        a(flag, action="store_true", default=None, help=help_)
    a("--betas", type=float, nargs=2, metavar=("BETA1", "BETA2"),
      help=f"Adam betas of both players (default: {_D.betas[0]} {_D.betas[1]})")
    a("--ngf", type=int, help="generator width of DCGAN (default: the architecture's, 64)")
    a("--ndf", type=int, help="discriminator width of DCGAN and PatchGAN (default: the architecture's, 64)")
    a("--g-opt", type=_key_value, action="append", metavar="KEY=VALUE",
      help="another generator option, e.g. dim=64 or depth=[2,2]; repeatable (default: none)")
    a("--d-opt", type=_key_value, action="append", metavar="KEY=VALUE",
      help="another discriminator option, e.g. n_layers=3 or norm=spectral; repeatable (default: none)")
    a("--fid-samples", type=int, default=1000, help="samples per FID evaluation")
    a("--out", default="runs/gan", help="run folder")
    a("--resume", action="store_true", help="continue the run in --out from its config.json and "
                                            "checkpoints/last.pt")
    a("--overwrite", action="store_true", help="start afresh in an --out that holds an earlier run, "
                                               "replacing its checkpoints (default: refuse)")


def options_from_args(args: argparse.Namespace) -> dict:
    """The GANConfig fields given on the command line; options left out are absent."""
    d = {k: getattr(args, k) for k in ("arch", "disc", "loss") if getattr(args, k) is not None}
    d.update(given_fields(args, _OPTIONS))
    d.update({key: value for flag, (key, value, _) in _SWITCHES.items() if getattr(args, _dest(flag))})
    if args.betas is not None:
        d["betas"] = tuple(args.betas)
    for name, opts, width, key in (("g_cfg", args.g_opt, args.ngf, "ngf"),
                                   ("d_cfg", args.d_opt, args.ndf, "ndf")):
        if opts or width is not None:
            d[name] = {**dict(opts or []), **({key: width} if width is not None else {})}
    if getattr(args, "device", None) is not None:  # the global --device
        d["device"] = args.device
    return d


def _dest(flag: str) -> str:
    """The argparse destination of a flag: ``--no-amp`` -> ``no_amp``."""
    return flag[2:].replace("-", "_")


def config_from_args(args: argparse.Namespace) -> GANConfig:
    """The ``GANConfig`` of a new run that parsed command-line arguments describe."""
    return config_from_dict(GANConfig, options_from_args(args))


def _score_fn(config: GANConfig, fid_samples: int, ctx):
    from probgen.gan.evaluate import fid_score_fn, has_metric_classifier

    if not config.eval_every or not ctx.is_main or not has_metric_classifier(config.data):
        return None  # (train_command warned already)
    return fid_score_fn(config.data, fid_samples, device=ctx.device)


def _evaluation_off_warning(data: str) -> str:
    from probgen.gan.evaluate import metrics_available

    why = (f"no metric classifier is shipped for --data {data} (only for mnist-5k and digits)"
           if metrics_available() else "probgen.metrics (the FID) is not installed")
    return (f"probgen: warning: {why}, so the run is not evaluated: no FID and no checkpoints/best.pt "
            "(--eval-every 0). Score the samples yourself, or train on mnist-5k or digits.")


def train_command(args: argparse.Namespace) -> int:
    """``probgen train gan``: train, write the run folder, print where it is."""
    from probgen.distributed import setup_distributed
    from probgen.gan.evaluate import has_metric_classifier
    from probgen.gan.loop import GANTrainer
    from probgen.training.config import resolve_run_config, saved_config

    check_output_folder("--out", args.out)
    check_fresh_run("--out", args.out, resume=args.resume, overwrite=args.overwrite)
    given = options_from_args(args)
    saved = saved_config(args.out) if args.resume else None
    data = given.get("data", (saved or {}).get("data", _D.data))
    if not has_metric_classifier(data):
        if given.get("eval_every", (saved or {}).get("eval_every", 1)) != 0:
            print(_evaluation_off_warning(data), file=sys.stderr)
        given["eval_every"] = 0
    elif "eval_every" not in given and saved is None:
        given["eval_every"] = given.get("ckpt_every", _D.ckpt_every)
    config = resolve_run_config(GANConfig, given, args.out, resume=args.resume)
    ctx = setup_distributed(config.device)
    try:
        score_fn = _score_fn(config, args.fid_samples, ctx)
        trainer = GANTrainer(config, args.out, resume=args.resume, ctx=ctx, score_fn=score_fn)
        trainer.fit()
        if ctx.is_main:
            best = trainer.best_score
            best = "" if best is None else f", best {trainer.score_name} {best:.2f}"
            print(f"GAN trained for {trainer.step} steps{best}: {trainer.run.path}")
    finally:
        ctx.close()
    return 0


def register(train, top) -> None:
    """Add ``probgen train gan`` (no top-level commands)."""
    p = train.add_parser("gan", help="train a GAN (DCGAN, PatchGAN, transformer; conditional or not)",
                         description=DESCRIPTION, epilog=EPILOG)
    _add_arguments(p)
    p.set_defaults(func=train_command)


def demo(run, quick: bool) -> str:
    """The GAN section of ``probgen demo`` (see ``probgen.gan.demo``)."""
    from probgen.gan.demo import run_demo

    return run_demo(run, quick)
