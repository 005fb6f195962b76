"""``probgen train gan`` and the GAN part of ``probgen demo``.

    probgen train gan --arch dcgan --disc patchgan --loss non-saturating --data mnist-5k --steps 2000 \
        --d-steps 1 --out runs/gan

Under ``torchrun --nproc_per_node N -m probgen.cli train gan ...`` every process trains on its shard of each
epoch and rank 0 writes the run folder.
"""

from __future__ import annotations

import argparse
import json

from probgen.gan.losses import LOSSES
from probgen.gan.registry import list_models
from probgen.gan.train import GANConfig


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
    d = GANConfig()
    a = p.add_argument
    a("--arch", default=d.arch, choices=list_models("generator"), help="generator architecture")
    a("--disc", default=d.disc, choices=list_models("discriminator"), help="discriminator architecture")
    a("--loss", default=d.loss, choices=LOSSES,
      help="'minimax' is the saturating objective as written; common code calls 'non-saturating' minimax")
    a("--data", default=d.data, help="data set name (see `probgen data list`)")
    a("--conditional", action="store_true", help="class-conditional G and D")
    a("--steps", type=int, default=d.steps, help="training steps (each: d-steps D updates, one G update)")
    a("--d-steps", type=int, default=d.d_steps, help="k: discriminator updates per generator update")
    a("--batch-size", type=int, default=d.batch_size, help="images per D update and process")
    a("--latent-dim", type=int, default=d.latent_dim)
    a("--lr-g", type=float, default=d.lr_g)
    a("--lr-d", type=float, default=d.lr_d)
    a("--betas", type=float, nargs=2, default=list(d.betas), metavar=("BETA1", "BETA2"))
    a("--ngf", type=int, help="generator width (DCGAN)")
    a("--ndf", type=int, help="discriminator width (DCGAN, PatchGAN)")
    a("--g-opt", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
      help="another generator option, e.g. dim=64 or depth=[2,2] (repeatable)")
    a("--d-opt", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
      help="another discriminator option, e.g. n_layers=3 or norm=spectral (repeatable)")
    a("--gp-weight", type=float, default=d.gp_weight, help="WGAN-GP lambda")
    a("--r1", type=float, default=d.r1, help="R1 penalty gamma (0: off)")
    a("--ema", type=float, default=d.ema, help="EMA decay of G's weights, e.g. 0.999 (0: off)")
    a("--diffaug", default=d.diffaug, help="DiffAugment policy, e.g. color,translation,cutout")
    a("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    a("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    a("--no-channels-last", action="store_true", help="keep NCHW memory format on CUDA")
    a("--compile", action="store_true", help="torch.compile the networks")
    a("--seed", type=int, default=d.seed)
    a("--log-every", type=int, default=d.log_every)
    a("--sample-every", type=int, default=d.sample_every)
    a("--ckpt-every", type=int, default=d.ckpt_every)
    a("--eval-every", type=int, default=None,
      help="FID for the best checkpoint every this many steps (default: ckpt-every when probgen.metrics "
           "is installed; 0: off)")
    a("--fid-samples", type=int, default=1000, help="samples per FID evaluation")
    a("--max-rollbacks", type=int, default=d.max_rollbacks)
    a("--out", default="runs/gan", help="run folder")
    a("--resume", action="store_true", help="continue from <out>/checkpoints/last.pt")
    a("--debug", action="store_true", help="show tracebacks for input errors")


def config_from_args(args: argparse.Namespace) -> GANConfig:
    """The :class:`GANConfig` that parsed command-line arguments describe."""
    g_cfg, d_cfg = dict(args.g_opt), dict(args.d_opt)
    if args.ngf is not None:
        g_cfg["ngf"] = args.ngf
    if args.ndf is not None:
        d_cfg["ndf"] = args.ndf
    return GANConfig(
        arch=args.arch, disc=args.disc, loss=args.loss, data=args.data, conditional=args.conditional,
        latent_dim=args.latent_dim, g_cfg=g_cfg, d_cfg=d_cfg, steps=args.steps, d_steps=args.d_steps,
        batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d, betas=tuple(args.betas),
        gp_weight=args.gp_weight, r1=args.r1, ema=args.ema, diffaug=args.diffaug, device=args.device,
        amp=not args.no_amp, channels_last=not args.no_channels_last, compile=args.compile, seed=args.seed,
        log_every=args.log_every, sample_every=args.sample_every, ckpt_every=args.ckpt_every,
        eval_every=0, max_rollbacks=args.max_rollbacks,
    ).validate()


def _score_fn(args, config: GANConfig, ctx):
    from probgen.gan.evaluate import fid_score_fn, metrics_available

    every = args.eval_every
    if every is None:
        every = config.ckpt_every if metrics_available() else 0
    if every and not metrics_available():
        raise ValueError("`--eval-every` needs probgen.metrics (the FID), which is not installed; pass "
                         "--eval-every 0")
    if not every or not ctx.is_main:
        return every, None
    return every, fid_score_fn(config.data, args.fid_samples, device=ctx.device)


def train_command(args: argparse.Namespace) -> int:
    """``probgen train gan``: train, write the run folder, print where it is."""
    from probgen.distributed import setup_distributed
    from probgen.gan.loop import GANTrainer
    from probgen.runs import RunDir

    config = config_from_args(args)
    ctx = setup_distributed(config.device)
    try:
        config.eval_every, score_fn = _score_fn(args, config, ctx)
        run = RunDir(args.out, config.to_dict(), resume=args.resume, write=ctx.is_main)
        trainer = GANTrainer(config, run=run, ctx=ctx, score_fn=score_fn)
        if args.resume and (run.path / "checkpoints" / "last.pt").exists():
            trainer.load_state_dict(run.load("last", map_location=ctx.device))
            run.truncate_metrics("step", trainer.step)
        trainer.fit()
        if ctx.is_main:
            best = trainer.best_score
            best = "" if best is None else f", best {trainer.score_name} {best:.2f}"
            print(f"GAN trained for {trainer.step} steps{best}: {run.path}")
    finally:
        ctx.close()
    return 0


def register(train, top) -> None:
    """Add ``probgen train gan`` (no top-level commands)."""
    p = train.add_parser("gan", help="train a GAN (DCGAN, PatchGAN, transformer; conditional or not)",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(p)
    p.set_defaults(func=train_command)


def demo(run, quick: bool) -> str:
    """The GAN section of ``probgen demo`` (see :mod:`probgen.gan.demo`)."""
    from probgen.gan.demo import run_demo

    return run_demo(run, quick)
