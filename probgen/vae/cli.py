"""``probgen train vae`` and the VAE part of ``probgen demo``.

Every ``VAEConfig`` field is a flag (``--z-dim 2``, ``--likelihood gaussian``, ...); ``--config file.json``
reads fields from JSON first (unknown keys raise) and flags given on the command line override them.
``--resume`` continues the run in ``--out`` with its saved ``config.json``: flags given then may change only
what a resume may change (``--epochs``, evaluation, checkpoints, device). Options left out are "not given"
(None), which is how a resume tells them from defaults. Multi-process training:
``torchrun --nproc_per_node 2 -m probgen.cli train vae ...``. This module imports no torch until a command
runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from probgen.checks import check_fresh_run, check_output_folder, config_from_dict
from probgen.training.config import add_field_options, given_fields, read_config_file
from probgen.vae.config import ARCHS, BINARIZE, ELBOS, LIKELIHOODS, VAEConfig

_D = VAEConfig()

# VAEConfig field -> help of its option (--field-name); the effective default is appended
_OPTIONS = {
    "data": "data set name, see `probgen data list`",
    "epochs": "training epochs",
    "z_dim": "latent dimension",
    "min_scale": "floor on the Gaussian likelihood's standard deviation",
    "batch_size": "batch size per process",
    "lr": "Adam learning rate",
    "num_particles": "samples of z per image in the ELBO",
    "seed": "random seed",
    "ckpt_every": "also checkpoint every this many SVI steps (default: 0, at epoch ends only)",
    "iwae_samples": "k of the final IWAE log-likelihood, 0 skips it",
    "iwae_images": "test images for the IWAE estimate",
}
# VAEConfig field -> (choices, help)
_CHOICES = {
    "arch": (ARCHS, "network architecture"),
    "likelihood": (LIKELIHOODS, "pixel likelihood p(x | z)"),
    "elbo": (ELBOS, "fast (FastTrace_ELBO), fast-meanfield (closed-form KL), or Pyro's trace (Trace_ELBO), "
                    "meanfield (TraceMeanField_ELBO), jit (JitTrace_ELBO)"),
    "binarize": (BINARIZE, "auto: a fixed binary copy for bernoulli, none otherwise; dynamic: fresh binary "
                           "pixels every batch"),
}


def register(train, top) -> None:
    """Add ``probgen train vae``."""
    p = train.add_parser("vae", help="train a variational autoencoder with Pyro SVI",
                         description="Train a VAE with SVI; writes metrics, checkpoints and figures to "
                                     "--out. Cost: the default run (MLP, z = 50, 50 epochs of mnist-5k) "
                                     "takes about 1-2 minutes on one idle CPU core (0.014 CPU s per SVI "
                                     "step, plus evaluation, the IWAE estimate and the figures; measured "
                                     "on 2 cores under load and extrapolated, README 'What a run costs'); "
                                     "on a GPU: not measured.")
    add_field_options(p, _D, _OPTIONS)
    for name, (choices, help_) in _CHOICES.items():
        p.add_argument(f"--{name}", choices=choices, help=f"{help_} (default: {getattr(_D, name)})")
    p.add_argument("--hidden", type=int, nargs="+",
                   help=f"hidden layer width(s), e.g. --hidden 512 256 (default: {_D.hidden[0]})")
    p.add_argument("--ae-epochs", type=int,
                   help="autoencoder epochs for the AE-vs-VAE figure, 0 skips it (default: --epochs)")
    p.add_argument("--conditional", action="store_true", default=None,
                   help="conditional VAE p(x | z, y) on the data set's labels (default: unconditional)")
    p.add_argument("--no-figures", action="store_true", default=None,
                   help="skip the figures (default: draw them)")
    p.add_argument("--config", type=Path,
                   help="JSON file of VAEConfig fields; options given on the command line override it "
                        "(default: none)")
    p.add_argument("--out", default="runs/vae", help="run folder")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its config.json and checkpoints/last.pt")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out that holds an earlier run, replacing its checkpoints "
                        "(default: refuse)")
    p.set_defaults(func=_train)


def options_from_args(args: argparse.Namespace) -> dict:
    """The VAEConfig fields given on the command line (and in ``--config``); options left out are absent."""
    d = read_config_file(args.config, "VAEConfig") if args.config is not None else {}
    d.update(given_fields(args, [*_OPTIONS, *_CHOICES, "ae_epochs"]))
    if args.hidden is not None:
        d["hidden"] = tuple(args.hidden)
    if getattr(args, "device", None) is not None:  # the global --device
        d["device"] = args.device
    if args.no_figures:
        d["figures"] = False
    if args.conditional:
        from probgen.data import dataset_info
        from probgen.training.config import saved_config

        saved = (saved_config(args.out) or {}) if args.resume else {}
        d["num_classes"] = dataset_info(d.get("data", saved.get("data", _D.data))).num_classes
    return d


def config_from_args(args: argparse.Namespace) -> VAEConfig:
    """The VAEConfig of a new run that the command-line arguments describe."""
    return config_from_dict(VAEConfig, options_from_args(args))


def _train(args) -> int:
    from probgen.distributed import setup_distributed
    from probgen.training.config import resolve_run_config
    from probgen.vae.train import resolve_config, train_vae

    check_output_folder("--out", args.out)
    check_fresh_run("--out", args.out, resume=args.resume, overwrite=args.overwrite)
    cfg = resolve_run_config(VAEConfig, options_from_args(args), args.out, resume=args.resume,
                             prepare=resolve_config)
    ctx = setup_distributed(cfg.device)
    try:
        result = train_vae(cfg, args.out, resume=args.resume, ctx=ctx)
    finally:
        ctx.close()
    if ctx.is_main:
        rows = result.run.read_metrics()
        last = rows[-1] if rows else {}
        print(f"{result.vae}\ntest ELBO {last.get('test_elbo', '?')} nats/image after {cfg.epochs} epochs")
        if result.test_log_likelihood is not None:
            print(f"test log-likelihood (IWAE, k={cfg.iwae_samples}): "
                  f"{result.test_log_likelihood:.2f} nats/image")
        print(f"run folder: {result.run.path}")
    return 0


def demo(run, quick: bool) -> str:
    """The VAE part of ``probgen demo`` (see ``probgen.vae.demo``)."""
    from probgen.vae.demo import run_demo

    return run_demo(run, quick)
