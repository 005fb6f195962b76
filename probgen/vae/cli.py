"""``probgen train vae`` and the VAE part of ``probgen demo``.

Every ``VAEConfig`` field is a flag (``--z-dim 2``, ``--likelihood gaussian``, ...); ``--config file.json``
reads fields from JSON first (unknown keys raise) and flags given on the command line override them.
Multi-process training: ``torchrun --nproc_per_node 2 -m probgen.cli train vae ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from probgen.vae.config import BINARIZE, ELBOS, VAEConfig

# flag -> (VAEConfig field, type, help)
_FLAGS = {
    "--data": ("data", str, "data set name (see `probgen data list`); default mnist-5k"),
    "--epochs": ("epochs", int, "training epochs (default 50)"),
    "--z-dim": ("z_dim", int, "latent dimension (default 50)"),
    "--hidden": ("hidden", int, "hidden layer width(s), e.g. --hidden 512 256 (default 400)"),
    "--arch": ("arch", str, "network architecture: mlp | conv (default mlp)"),
    "--likelihood": ("likelihood", str, "bernoulli | gaussian | continuous-bernoulli (default bernoulli)"),
    "--min-scale": ("min_scale", float, "floor on the Gaussian likelihood's std (default 0.01)"),
    "--batch-size": ("batch_size", int, "batch size per process (default 128)"),
    "--lr": ("lr", float, "Adam learning rate (default 1e-3)"),
    "--num-particles": ("num_particles", int, "samples of z per image in the ELBO (default 1)"),
    "--seed": ("seed", int, "random seed (default 0)"),
    "--iwae-samples": ("iwae_samples", int, "k of the final IWAE log-likelihood, 0 skips (default 1000)"),
    "--iwae-images": ("iwae_images", int, "test images for the IWAE estimate (default 1000)"),
    "--ae-epochs": ("ae_epochs", int, "autoencoder epochs (AE-vs-VAE figure), 0 skips (default --epochs)"),
}


def register(train, top) -> None:
    """Add ``probgen train vae``."""
    p = train.add_parser("vae", help="train a variational autoencoder with Pyro SVI",
                         description="Train a VAE with SVI; writes metrics, checkpoints, figures to --out.")
    for flag, (_, typ, help_) in _FLAGS.items():
        p.add_argument(flag, type=typ, default=None, help=help_, nargs="+" if flag == "--hidden" else None)
    p.add_argument("--elbo", choices=ELBOS, default=None,
                   help="fast (FastTrace_ELBO, default) | fast-meanfield (closed-form KL) | trace | "
                        "meanfield | jit (Pyro's Trace_ELBO, TraceMeanField_ELBO, JitTrace_ELBO)")
    p.add_argument("--binarize", choices=BINARIZE, default=None,
                   help="auto (fixed binary copy for bernoulli; default) | none | threshold | stochastic | "
                        "dynamic")
    p.add_argument("--conditional", action="store_true", help="conditional VAE on the data set's labels")
    p.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--config", type=Path, help="JSON file of VAEConfig fields (flags override it)")
    p.add_argument("--out", default="runs/vae", help="run folder (default runs/vae)")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoints/last.pt")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=_train)


def config_from_args(args: argparse.Namespace) -> VAEConfig:
    """The VAEConfig that the command-line arguments describe."""
    d = {}
    if args.config is not None:
        if not args.config.is_file():
            raise ValueError(f"`--config` {str(args.config)!r} does not exist")
        d = json.loads(args.config.read_text())
        if not isinstance(d, dict):
            raise ValueError(f"`--config` {str(args.config)!r} must hold a JSON object of VAEConfig fields")
    for _, (key, _, _) in _FLAGS.items():
        v = getattr(args, key)
        if v is not None:
            d[key] = tuple(v) if key == "hidden" else v
    for key in ("elbo", "binarize", "device"):
        if getattr(args, key) is not None:
            d[key] = getattr(args, key)
    if args.no_figures:
        d["figures"] = False
    if args.conditional:
        from probgen.data import dataset_info

        d["num_classes"] = dataset_info(d.get("data", "mnist-5k")).num_classes
    return VAEConfig.from_dict(d)


def _train(args) -> int:
    from probgen.distributed import setup_distributed
    from probgen.vae.train import TrainingDiverged, train_vae

    cfg = config_from_args(args)
    ctx = setup_distributed(cfg.device)
    try:
        result = train_vae(cfg, args.out, resume=args.resume, ctx=ctx)
    except TrainingDiverged as e:
        print(f"probgen: {e}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
    if ctx.is_main:
        last = result.run.read_metrics()[-1] if result.run.read_metrics() else {}
        print(f"{result.vae}\ntest ELBO {last.get('test_elbo', '?')} nats/image after {cfg.epochs} epochs")
        if result.test_log_likelihood is not None:
            print(f"test log-likelihood (IWAE, k={cfg.iwae_samples}): "
                  f"{result.test_log_likelihood:.2f} nats/image")
        print(f"run folder: {result.run.path}")
    return 0


def demo(run, quick: bool) -> str:
    """Train a 2-D-latent VAE (and an autoencoder) on offline digits; a Markdown section with figures."""
    from probgen.runs import RunDir
    from probgen.vae.train import train_vae

    if quick:
        cfg = VAEConfig(data="digits", z_dim=2, hidden=(64,), epochs=2, iwae_samples=20, iwae_images=100,
                        ae_epochs=1, device="cpu")
    else:
        cfg = VAEConfig(data="mnist-5k", z_dim=2, hidden=(400,), epochs=25, iwae_samples=500, iwae_images=500,
                        device="cpu")
    result = train_vae(cfg, run.path / "vae", quiet=True)
    last = result.run.read_metrics()[-1]
    summary = json.loads((result.run.path / "summary.json").read_text())
    sub = RunDir(run.path / "vae", write=False)
    rel = {k: Path(v).relative_to(run.path) for k, v in result.figures.items()}
    lines = [
        "## VAE",
        "",
        f"`{result.vae}` trained with Pyro SVI ({cfg.epochs} epochs on `{cfg.data}`, "
        f"binarised; fast path FastTrace_ELBO + JointOptim Adam).",
        "",
        f"- test ELBO: {float(last['test_elbo']):.2f} nats/image",
        f"- test log-likelihood (IWAE, k={cfg.iwae_samples}, {summary['iwae_images']} test images): "
        f"{result.test_log_likelihood:.2f} nats/image",
        f"- run folder: `{sub.path.relative_to(run.path)}` (metrics.csv, checkpoints, model.pt)",
        "",
    ]
    captions = {"samples": "Samples from the prior", "reconstructions": "Reconstructions (top: inputs)",
                "latent": "Latent space of test digits", "manifold": "Latent manifold (Gaussian quantiles)",
                "interpolations": "Interpolations", "ae_vs_vae": "Autoencoder vs VAE latent space",
                "curves": "ELBO per epoch"}
    for key, cap in captions.items():
        if key in rel:
            lines += [f"**{cap}**", "", f"![{cap}]({rel[key]})", ""]
    return "\n".join(lines)
